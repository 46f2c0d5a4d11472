"""
The limits of plain UDP over C{twistd chatroom --dtls}: the per-address session limit
(C{--max-per-ip}), the client limit (C{--max-clients}) and a peer that vanishes in the
middle of its handshake. The client here is pyOpenSSL over a blocking socket, driven by
hand, so the test decides when a peer stops answering.
"""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path

import pytest
from helpers.certs import selfSigned
from helpers.wire import BlockingUDP, ServerProcess, blockingLoggedIn, twistdServer
from OpenSSL import SSL

from chatroom.datagrams import ackDatagram, parseDatagram

WAIT = 10.0


def startDTLS(tmp_path: Path, *options: str) -> tuple[ServerProcess, Path]:
    """
    C{twistd chatroom --dtls} with a fresh certificate; the server and that certificate.
    """
    key, cert = selfSigned(tmp_path)
    server = twistdServer(tmp_path, "--dtls", f"0:privateKey={key}:certKey={cert}", *options)
    return server, cert


class DTLSPeer:
    """
    One DTLS client association over a blocking UDP socket on 127.0.0.1.
    """

    def __init__(self, port: int, cert: Path, sock: socket.socket | None = None) -> None:
        self.server = ("127.0.0.1", port)
        self.sock = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if sock is None:
            self.sock.bind(("127.0.0.1", 0))
        context = SSL.Context(SSL.DTLS_METHOD)
        context.load_verify_locations(str(cert))
        context.set_verify(SSL.VERIFY_PEER, lambda *args: args[-1])
        self.connection = SSL.Connection(context)
        self.connection.set_connect_state()
        self.received: list[bytes] = []

    def _flush(self) -> None:
        while True:
            try:
                out = self.connection.bio_read(65536)
            except SSL.WantReadError:
                return
            self.sock.sendto(out, self.server)

    def _step(self) -> bool:
        """
        Drive the handshake one move; True once it is complete.
        """
        try:
            self.connection.do_handshake()
        except SSL.WantReadError:
            self._flush()
            return False
        self._flush()
        return True

    def _receive(self, timeout: float) -> bytes | None:
        self.sock.settimeout(timeout)
        try:
            data, addr = self.sock.recvfrom(65535)
        except TimeoutError:
            return None
        assert addr == self.server
        return data

    def hello(self) -> None:
        """
        Send the first flight, then the ClientHello with the server's cookie;
        stop as soon as the server's flight is in (the handshake is half done).
        """
        assert not self._step()
        cookie = self._receive(WAIT)
        assert cookie is not None, "no HelloVerifyRequest"
        self.connection.bio_write(cookie)
        assert not self._step()  # the ClientHello with the cookie
        flight = self._receive(WAIT)
        assert flight is not None, "no ServerHello"
        self.connection.bio_write(flight)

    def handshake(self) -> None:
        deadline = time.monotonic() + WAIT
        while not self._step():
            left = deadline - time.monotonic()
            assert left > 0, "the handshake did not complete"
            timer = self.connection.DTLSv1_get_timeout()
            data = self._receive(min(left, timer if timer is not None else left))
            if data is None:
                self.connection.DTLSv1_handle_timeout()
                self._flush()
            else:
                self.connection.bio_write(data)

    def send(self, datagram: bytes) -> None:
        self.connection.send(datagram)
        self._flush()

    def next(self, wait: float = WAIT) -> bytes:
        """
        The next datagram of section 5 from inside the association.
        """
        deadline = time.monotonic() + wait
        while not self.received:
            left = deadline - time.monotonic()
            assert left > 0, "nothing came inside the association"
            data = self._receive(left)
            if data is None:
                continue
            self.connection.bio_write(data)
            with contextlib.suppress(SSL.WantReadError):
                while True:
                    self.received.append(self.connection.recv(65536))
            self._flush()
        return self.received.pop(0)

    def session(self, name: str) -> int:
        """
        Handshake, then start a UDP session (section 5): C{C LOGIN}, the
        server's C{C HELLO} acknowledged. Returns the server's next number.
        """
        self.handshake()
        self.send(b"1000 C LOGIN " + name.encode())
        parsed = parseDatagram(self.next())
        assert parsed is not None
        seq, frame = parsed
        assert frame == b"C HELLO chatroom 1 UDP"
        self.send(ackDatagram(seq))
        return seq + 1

    def admitted(self, name: str) -> None:
        """
        A session the server takes: the C{C LOGIN} is acknowledged and
        answered with C{C PASSWORD NEW} (acknowledged back), not a refusal.
        """
        serverSeq = self.session(name)
        replies = [self.next(), self.next()]
        assert ackDatagram(1000) in replies, replies
        other = next(r for r in replies if r != ackDatagram(1000))
        assert parseDatagram(other) == (serverSeq, b"C PASSWORD NEW"), replies
        self.send(ackDatagram(serverSeq))

    def refusal(self, name: str) -> bytes:
        """
        A session the server refuses: the C{C LOGIN} is acknowledged and
        answered with the refusal (acknowledged back); returns its frame.
        """
        serverSeq = self.session(name)
        replies = [self.next(), self.next()]
        assert ackDatagram(1000) in replies, replies
        other = next(r for r in replies if r != ackDatagram(1000))
        parsed = parseDatagram(other)
        assert parsed is not None and parsed[0] == serverSeq
        assert parsed[1] is not None
        self.send(ackDatagram(serverSeq))
        return parsed[1]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def peers():
    made: list[DTLSPeer] = []
    yield made
    for peer in made:
        peer.close()


def test_the_per_address_limit_holds_over_dtls(tmp_path, peers):
    server, cert = startDTLS(tmp_path, "--max-per-ip", "2")
    try:
        port = server.ports["DTLS"]
        for name in ("ann", "ben"):
            peers.append(DTLSPeer(port, cert))
            peers[-1].admitted(name)
        peers.append(DTLSPeer(port, cert))
        refused = peers[-1].refusal("cat")
        assert refused == b"C ERR FULL too many sessions from your address"
        # Plain UDP from that address is refused alike: DTLS sessions count with it.
        plain = BlockingUDP(server.ports["UDP"])
        try:
            plain.send("C LOGIN eve")
            plain.expect("C HELLO chatroom 1 UDP", "C ERR FULL too many sessions from your address")
        finally:
            plain.close()
        # A DTLS session that ends gives its slot back.
        peers[0].send(b"1001 C EX")
        for _ in range(5):  # every frame acknowledged
            seq, frame = parseDatagram(peers[0].next()) or (0, None)
            if frame is not None:
                peers[0].send(ackDatagram(seq))
            if frame == b"C BYE EXIT":
                break
        else:
            raise AssertionError("no C BYE EXIT over DTLS")
        peers.append(DTLSPeer(port, cert))
        peers[-1].admitted("fay")
        # Another address is not counted with 127.0.0.1's.
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind(("127.0.0.2", 0))
        peers.append(DTLSPeer(port, cert, other))
        peers[-1].admitted("dan")
    finally:
        server.stop()


def test_the_client_limit_holds_over_dtls(tmp_path, peers):
    server, cert = startDTLS(tmp_path, "--max-clients", "2")
    try:
        port = server.ports["DTLS"]
        tara = blockingLoggedIn(server.ports["TCP"], "tara")
        peers.append(DTLSPeer(port, cert))
        peers[-1].admitted("ann")
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind(("127.0.0.2", 0))  # not the per-address limit
        peers.append(DTLSPeer(port, cert, other))
        refused = peers[-1].refusal("ben")
        assert refused == b"C ERR FULL the server is full, try later"
        tara.close()
    finally:
        server.stop()


def test_a_peer_that_vanishes_mid_handshake_is_dropped(tmp_path, peers):
    """
    A peer passes the cookie exchange, takes the server's flight, then says
    nothing more. The server resends that flight on its handshake timer, then
    drops the half-open association once the provisional lifetime (10 s) is
    over: nothing more comes, though an unexpired timer (1, 2, 4, 8 s apart)
    would have sent it again by 15 s. A new handshake from that very address
    and port then completes and carries a session, and so does one from
    another port.
    """
    server, cert = startDTLS(tmp_path)
    try:
        port = server.ports["DTLS"]
        ghost = DTLSPeer(port, cert)
        peers.append(ghost)
        began = time.monotonic()
        ghost.hello()
        resent: list[float] = []
        while (now := time.monotonic()) < began + 17.0:
            data = ghost._receive(began + 17.0 - now)
            if data is not None:
                resent.append(time.monotonic() - began)
        assert resent, "the server never resent its flight"
        assert max(resent) < 10.8, resent  # dropped with the provisional lifetime
        # The same address and port start afresh.
        again = DTLSPeer(port, cert, ghost.sock)
        again.admitted("ann")
        peers.append(DTLSPeer(port, cert))
        peers[-1].admitted("ben")
    finally:
        server.stop()
