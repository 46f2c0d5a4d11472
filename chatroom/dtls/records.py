"""
The DTLS 1.2 record layer's framing (RFC 6347 section 4.1), read without any crypto.

OpenSSL writes into a memory BIO as into a stream: one read may return several records,
and the datagram boundaries it meant are lost. So the door splits what it reads into
records itself and packs them into datagrams no larger than the path can carry; and it
looks at the headers of what arrives, so that a datagram that is not DTLS is dropped
before OpenSSL (or the cookie exchange) ever sees it.
"""

from __future__ import annotations

from collections.abc import Iterable

#: type (1), version (2), epoch (2), sequence number (6), length (2).
HEADER = 13

CHANGE_CIPHER_SPEC = 20
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23
CONTENT_TYPES = frozenset({CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA})

#: The handshake message type of a ClientHello (the first byte of its body).
CLIENT_HELLO = 1

#: A DTLS version's first byte: 254 (DTLS 1.0 is 254.255, 1.2 is 254.253).
DTLS_MAJOR = 0xFE

#: Datagrams of the handshake are kept to this size, well under any path's
#: MTU once IP and UDP headers are added (1280 is IPv6's minimum).
MTU = 1200


def splitRecords(data: bytes) -> list[bytes] | None:
    """
    The records one datagram (or one read of a memory BIO) holds.

    @return: the records, each whole with its header; or L{None} if C{data}
        is not a sequence of DTLS records (garbage, plain UDP, a cut record).
    """
    records = []
    at = 0
    size = len(data)
    while at < size:
        if size - at < HEADER or data[at] not in CONTENT_TYPES or data[at + 1] != DTLS_MAJOR:
            return None
        end = at + HEADER + int.from_bytes(data[at + 11 : at + 13], "big")
        if end > size:
            return None
        records.append(data[at:end])
        at = end
    return records or None


def epoch(record: bytes) -> int:
    """
    The record's epoch: 0 before the first ChangeCipherSpec, in clear.
    """
    return int.from_bytes(record[3:5], "big")


def isClientHello(record: bytes) -> bool:
    """
    Whether a record is (the start of) a ClientHello: a handshake record of
    epoch 0 whose message type is 1. Only these may begin an association.
    """
    return (
        record[0] == HANDSHAKE
        and epoch(record) == 0
        and len(record) > HEADER
        and record[HEADER] == CLIENT_HELLO
    )


def packRecords(records: Iterable[bytes], mtu: int = MTU) -> list[bytes]:
    """
    Records packed into datagrams, in order, each datagram at most C{mtu}
    bytes unless one record alone is larger (it then travels alone: a
    record is never cut, and application records may be bigger than the
    handshake's MTU, as plain UDP's datagrams are).
    """
    datagrams: list[bytes] = []
    current = b""
    for record in records:
        if current and len(current) + len(record) > mtu:
            datagrams.append(current)
            current = b""
        current += record
    if current:
        datagrams.append(current)
    return datagrams
