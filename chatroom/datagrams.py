"""
Frames in datagrams: each datagram carries one frame under its sequence
number (C{<seq> <frame>}) or acknowledges one (C{A <seq>}). How a frame
reads is L{chatroom.codec}'s; making datagrams reliable is
L{chatroom.reliable}'s. Server and client alike number their datagrams here.
"""

from __future__ import annotations

#: Sequence numbers are below this.
SEQ_LIMIT = 2**32

#: The longest datagram UDP can carry over IPv4 (65535 minus the IP and UDP
#: headers). A frame whose datagram would be longer can never be sent.
MAX_DATAGRAM = 65507


def parseDatagram(data: bytes, limit: int | None = None) -> tuple[int, bytes | None] | None:
    """
    Split a datagram into C{(seq, frame)}, or C{(seq, None)} for an ack.

    Returns L{None} for anything else: empty, a bare C{A}, a number that is
    not plain decimal or not below 2**32.

    @param limit: the longest acceptable frame. A longer one is cut to
        C{limit + 1} bytes: still too long (the codec says so), but it
        cannot make anyone buffer 64 KiB on its behalf.
    """
    head, space, rest = data.partition(b" ")
    if not space:
        return None
    if head == b"A":
        seq = _number(rest)
        return None if seq is None else (seq, None)
    seq = _number(head)
    if seq is None:
        return None
    # "No terminator needed"; one sent anyway is not part of the frame.
    if rest.endswith(b"\n"):
        rest = rest[:-1].removesuffix(b"\r")
    if limit is not None and len(rest) > limit:
        rest = rest[: limit + 1]
    return seq, rest


def _number(text: bytes) -> int | None:
    if not (0 < len(text) <= 10 and text.isdigit()):
        return None
    value = int(text)
    return value if value < SEQ_LIMIT else None


def frameDatagram(seq: int, frame: bytes) -> bytes:
    return b"%d %s" % (seq, frame)


def ackDatagram(seq: int) -> bytes:
    return b"A %d" % (seq,)
