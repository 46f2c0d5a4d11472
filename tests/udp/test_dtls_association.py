"""
The DTLS association and the cookie gate without sockets: a pyOpenSSL client in memory,
the reactor's clock a L{task.Clock}. The handshake's flights are resent on that clock,
from what OpenSSL says (C{DTLSv1_get_timeout}), and the timer stops once open.
"""

from __future__ import annotations

import contextlib
import time

import pytest
from helpers.certs import selfSigned
from OpenSSL import SSL
from twisted.internet.task import Clock

from chatroom.dtls.association import Association, AssociationState
from chatroom.dtls.context import DTLSSpec, serverContext
from chatroom.dtls.door import DTLSDoor
from chatroom.dtls.gate import CookieGate, drain
from chatroom.dtls.records import MTU, isClientHello, packRecords, splitRecords

PEER = ("192.0.2.7", 4433)


class Host:
    """
    The door, as an association sees it: what it was told, in order.
    """

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.events: list[tuple[str, object]] = []

    def sendDatagram(self, datagram: bytes, addr: tuple[str, int]) -> None:
        assert addr == PEER
        self.sent.append(datagram)

    def opened(self, association: Association) -> None:
        self.events.append(("opened", association.state))

    def plaintext(self, association: Association, datagram: bytes) -> None:
        self.events.append(("plaintext", datagram))

    def ended(self, association: Association, why: str) -> None:
        self.events.append(("ended", why))


@pytest.fixture
def gate(tmp_path):
    key, cert = selfSigned(tmp_path)
    context, _ = serverContext(DTLSSpec(0, str(key), str(cert)))
    gate = CookieGate(context, Clock())
    gate.cert = cert
    return gate


def client(cert) -> SSL.Connection:
    context = SSL.Context(SSL.DTLS_METHOD)
    context.load_verify_locations(str(cert))
    context.set_verify(SSL.VERIFY_PEER, lambda *args: bool(args[-1]))
    connection = SSL.Connection(context)
    connection.set_connect_state()
    return connection


def step(connection: SSL.Connection, incoming: bytes = b"") -> bytes:
    if incoming:
        connection.bio_write(incoming)
    with contextlib.suppress(SSL.WantReadError):
        connection.do_handshake()
    return drain(connection)


def admitted(gate: CookieGate, peer: SSL.Connection) -> tuple[SSL.Connection, bytes]:
    hello = step(peer)
    records = splitRecords(hello)
    assert records is not None and isClientHello(records[0])
    connection, reply = gate.admit(hello, PEER)
    assert connection is None and 0 < len(reply) <= len(hello)
    again = step(peer, reply)
    connection, reply = gate.admit(again, PEER)
    assert connection is not None and reply == b""
    return connection, again


def test_the_gate_keeps_nothing_and_answers_only_hellos(gate):
    peer = client(gate.cert)
    hello = step(peer)
    assert gate.admit(b"1 C LOGIN eve", PEER) == (None, b"")
    # The same hello from another address gets a cookie that only works there.
    _, reply = gate.admit(hello, ("192.0.2.8", 4433))
    connection, _ = gate.admit(step(peer, reply), PEER)
    assert connection is None


def test_the_handshake_is_resent_on_the_clock_until_it_completes(gate):
    peer = client(gate.cert)
    connection, _ = admitted(gate, peer)
    clock = Clock()
    host = Host()
    association = Association(connection, PEER, host, clock)
    assert association.state is AssociationState.COOKIE
    association.verified()
    assert association.state is AssociationState.HANDSHAKING
    flight = list(host.sent)
    assert flight and all(len(d) <= MTU for d in flight)
    (timer,) = clock.getDelayedCalls()
    first = timer.getTime()
    assert 0 < first <= 1.0

    # OpenSSL keeps the same deadline by the real clock: let it pass, then
    # the reactor's call resends the same flight and doubles the timer.
    time.sleep(first + 0.05)
    host.sent.clear()
    clock.advance(first)
    assert [len(d) for d in host.sent] == [len(d) for d in flight]
    (timer,) = clock.getDelayedCalls()
    assert 1.5 < timer.getTime() - clock.seconds() <= 2.0

    # The peer finally hears the flight: it answers, and the association opens.
    answer = step(peer, b"".join(flight))
    host.sent.clear()
    for datagram in packRecords(splitRecords(answer)):
        association.feed(datagram)
    assert association.state is AssociationState.OPEN
    assert host.events == [("opened", AssociationState.OPEN)]
    step(peer, b"".join(host.sent))
    peer.send(b"7 C LOGIN zoe")
    association.feed(drain(peer))
    assert host.events[-1] == ("plaintext", b"7 C LOGIN zoe")

    # Open: data out is one record, and a close_notify ends it as CLOSED.
    host.sent.clear()
    association.send(b"A 7")
    peer.bio_write(b"".join(host.sent))
    assert peer.recv(100) == b"A 7"
    peer.shutdown()
    association.feed(drain(peer))
    assert association.state is AssociationState.CLOSED
    assert host.events[-1] == ("ended", "CLOSED")
    assert not [c for c in clock.getDelayedCalls() if c.active()]


def test_an_association_closed_mid_handshake_stays_silent(gate):
    peer = client(gate.cert)
    connection, _ = admitted(gate, peer)
    clock = Clock()
    host = Host()
    association = Association(connection, PEER, host, clock)
    association.verified()
    association.close()  # as the door does once a handshake outlives its 10 s
    assert association.state is AssociationState.CLOSED
    assert not clock.getDelayedCalls()
    host.sent.clear()
    association.feed(step(peer))
    assert host.sent == [] and host.events == []


def test_records_split_and_pack():
    record = b"\x17\xfe\xfd" + b"\x00\x01" + b"\x00" * 6 + b"\x00\x03abc"
    assert splitRecords(record * 3) == [record] * 3
    assert splitRecords(record[:-1]) is None
    assert splitRecords(b"") is None
    assert splitRecords(b"1 C LOGIN x y z zz") is None
    assert packRecords([record] * 3, mtu=2 * len(record)) == [record * 2, record]
    big = b"\x17\xfe\xfd" + b"\x00" * 8 + (5000).to_bytes(2, "big") + b"x" * 5000
    assert packRecords([record, big, record], mtu=MTU) == [record, big, record]


class SocketStandIn:
    """
    The door's socket: what it sends, by address.
    """

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def sendto(self, datagram: bytes, addr: tuple[str, int]) -> int:
        self.sent.append((datagram, addr))
        return len(datagram)

    def getHandle(self) -> SocketStandIn:
        return self


class NoRoom:
    """
    The chat service, never reached here: no session gets that far.
    """

    def connect(self, channel: object, greeted: bool = False) -> None:
        raise AssertionError("no session was expected")


def test_handshakes_beyond_the_provisional_limit_are_ignored(gate):
    clock = Clock()
    door = DTLSDoor(NoRoom(), clock, gate, provisionalLimit=2)
    sock = SocketStandIn()
    door.makeConnection(sock)
    peers = {(f"192.0.2.{i}", 5000): client(gate.cert) for i in (1, 2, 3)}
    for addr, peer in peers.items():
        door.datagramReceived(step(peer), addr)
    cookies = {addr: datagram for datagram, addr in sock.sent}
    assert set(cookies) == set(peers)  # every one gets its cookie: that costs no state
    sock.sent.clear()
    for addr, peer in peers.items():
        door.datagramReceived(step(peer, cookies[addr]), addr)
    assert set(door.unproven) == set(list(peers)[:2])  # the third is ignored, no state
    assert {addr for _, addr in sock.sent} == set(list(peers)[:2])
    # After the provisional lifetime the table is free again.
    clock.advance(10.5)
    assert door.associations == {} and door.unproven == {}
    door.doStop()
