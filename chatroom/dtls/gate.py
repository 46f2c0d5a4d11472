"""
The cookie gate: DTLS's cookie exchange (RFC 6347 section 4.2.1), before any state.

A ClientHello without a valid cookie gets one HelloVerifyRequest, made by a throwaway
OpenSSL connection and never retransmitted, and is forgotten: a forged source address
costs the server nothing and gets at most one reply no larger than what was sent. Only a
ClientHello that returns the cookie (which only a peer really receiving at that address
can) yields a connection, ready to go on with the handshake.

The cookie is a keyed hash of the peer's address and the current (or previous) time
window, so it needs no table and goes stale.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from OpenSSL import SSL
from twisted.internet.interfaces import IReactorTime

from chatroom.dtls.records import MTU, isClientHello, splitRecords

Address = tuple[str, int]

#: A cookie is good for this many seconds at least, twice that at most.
COOKIE_WINDOW = 30.0


class CookieGate:
    """
    Answers first ClientHellos with a cookie, and lets through the ones that
    return it.

    @param context: the server's context; the gate installs its cookie
        callbacks, so it must be made before any connection uses it.
    """

    def __init__(
        self, context: SSL.Context, clock: IReactorTime, secret: bytes | None = None
    ) -> None:
        self.context = context
        self.clock = clock
        self._secret = secret or os.urandom(32)
        context.set_cookie_generate_callback(self._generate)
        context.set_cookie_verify_callback(self._verify)

    def cookie(self, addr: Address, window: int) -> bytes:
        message = b"%s %d %d" % (addr[0].encode(), addr[1], window)
        return hmac.digest(self._secret, message, hashlib.sha256)[:16]

    def _window(self) -> int:
        return int(self.clock.seconds() // COOKIE_WINDOW)

    def _generate(self, connection: SSL.Connection) -> bytes:
        return self.cookie(connection.get_app_data(), self._window())

    def _verify(self, connection: SSL.Connection, cookie: bytes) -> bool:
        addr = connection.get_app_data()
        now = self._window()
        return any(
            hmac.compare_digest(cookie, self.cookie(addr, window)) for window in (now, now - 1)
        )

    def admit(self, datagram: bytes, addr: Address) -> tuple[SSL.Connection | None, bytes]:
        """
        A datagram that opens with a ClientHello, from an address without
        a handshake under way.

        @return: the server's connection, if the hello carried a good cookie
            (the hello is in it, the handshake goes on from there), else
            L{None}; and the datagram to answer with (empty for none).
        """
        records = splitRecords(datagram)
        if records is None or not isClientHello(records[0]):
            return None, b""
        connection = SSL.Connection(self.context)
        connection.set_accept_state()
        connection.set_app_data(addr)
        connection.set_ciphertext_mtu(MTU)
        try:
            connection.bio_write(datagram)
            connection.DTLSv1_listen()
        except SSL.WantReadError:
            reply = drain(connection)
            # Never more than the peer sent: no amplification, whatever OpenSSL does.
            return None, reply if len(reply) <= len(datagram) else b""
        except (SSL.Error, ValueError):
            return None, b""
        return connection, b""


def drain(connection: SSL.Connection) -> bytes:
    """
    Everything OpenSSL has written for the peer so far.
    """
    out = b""
    while True:
        try:
            out += connection.bio_read(65536)
        except SSL.WantReadError:
            return out
