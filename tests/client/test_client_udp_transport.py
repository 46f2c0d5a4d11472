"""
The client's UDP transport with a fake clock: keepalives and a lost server.
"""

from __future__ import annotations

import random
import socket

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from zope.interface import implementer

from chatroom.client.transports import KEEPALIVE, Listener, UDPClientProtocol
from chatroom.datagrams import parseDatagram
from chatroom.sockets import IUDPPort, SocketAddress

SERVER = ("127.0.0.1", 9000)


@implementer(IUDPPort)
class Wire:
    """
    A UDP port that keeps what is sent, without a socket.
    """

    connected = True

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.connectedTo: tuple[str, int] | None = None

    def write(self, packet: bytes, addr: SocketAddress | None = None) -> None:
        assert addr in (SERVER, None)
        self.sent.append(packet)

    def stopListening(self) -> None:
        pass

    def connect(self, host: str, port: int) -> None:
        self.connectedTo = (host, port)

    def getHost(self) -> IPv4Address:
        return IPv4Address("UDP", "127.0.0.1", 40000)

    def getHandle(self) -> socket.socket:
        raise NotImplementedError("no socket here")

    def setBroadcastAllowed(self, enabled: bool) -> None:
        pass

    def getBroadcastAllowed(self) -> bool:
        return False


def client(clock: Clock) -> tuple[UDPClientProtocol, list[str], list[bool]]:
    frames: list[str] = []
    lost: list[bool] = []
    protocol = UDPClientProtocol(
        SERVER, Listener(frames.append, lambda: lost.append(True)), clock, random.Random(1)
    )
    protocol.transport = Wire()
    protocol.startProtocol()
    return protocol, frames, lost


def run(clock: Clock, seconds: float) -> None:
    for _ in range(round(seconds / 0.025)):
        clock.advance(0.025)


def acknowledgeAll(protocol: UDPClientProtocol) -> None:
    wire = protocol.transport
    assert isinstance(wire, Wire)
    for data in wire.sent:
        parsed = parseDatagram(data)
        assert parsed is not None
        seq, frame = parsed
        if frame is not None:
            protocol.datagramReceived(b"A %d" % seq, SERVER)
    wire.sent.clear()


def test_keepalive_ping_when_quiet():
    clock = Clock()
    protocol, frames, lost = client(clock)
    protocol.sendFrame("C LOGIN ada")
    protocol.datagramReceived(b"500 C HELLO chatroom 1 UDP", SERVER)
    assert frames == ["C HELLO chatroom 1 UDP"]
    acknowledgeAll(protocol)
    run(clock, KEEPALIVE - 1)
    assert protocol.transport.sent == []
    run(clock, 1.1)
    assert {parseDatagram(d) for d in protocol.transport.sent} == {
        (parseDatagram(protocol.transport.sent[0])[0], b"C PING")
    }
    acknowledgeAll(protocol)
    protocol.sendFrame("C PM")  # talking resets the quiet time
    acknowledgeAll(protocol)
    run(clock, KEEPALIVE - 1)
    assert protocol.transport.sent == [] and lost == []


def test_a_silent_server_is_reported_lost():
    clock = Clock()
    protocol, _frames, lost = client(clock)
    protocol.sendFrame("C LOGIN ada")
    run(clock, 20)
    assert lost == []
    run(clock, 10)
    assert lost == [True]
    assert len(protocol.transport.sent) == 7  # the LOGIN and its six retries


def test_datagrams_from_another_port_are_ignored():
    clock = Clock()
    protocol, frames, _lost = client(clock)
    protocol.datagramReceived(b"1 C HELLO chatroom 1 UDP", ("127.0.0.1", 9001))
    protocol.datagramReceived(b"garbage", SERVER)
    assert frames == [] and protocol.transport.sent == []


def test_the_server_may_answer_from_another_address():
    """
    A server on every interface answers 127.0.1.1 from 127.0.0.1.
    """
    clock = Clock()
    protocol, frames, _lost = client(clock)
    protocol.datagramReceived(b"1 C HELLO chatroom 1 UDP", ("127.0.1.1", 9000))
    assert frames == ["C HELLO chatroom 1 UDP"]


def test_a_send_that_fails_is_a_lost_datagram():
    clock = Clock()
    protocol, _frames, lost = client(clock)

    def refuse(data, addr):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    protocol.transport.write = refuse
    protocol.sendFrame("C LOGIN ada")  # no exception
    run(clock, 1)
    assert lost == []


def test_a_connection_attempt_never_hangs_the_client():
    """
    If an attempt to connect neither succeeds nor fails, the client gives
    up after CONNECT_LIMIT, says so, and exits 1.
    """
    from twisted.internet.defer import succeed
    from twisted.internet.testing import MemoryReactorClock

    from chatroom.client.main import CONNECT_LIMIT, ChatClient

    class UI:
        def __init__(self) -> None:
            self.shown: list[str] = []

        def show(self, text: str) -> None:
            self.shown.append(text)

        def ask(self, prompt: str, secret: bool = False):
            raise AssertionError("nothing to ask before connecting")

        def close(self):
            return succeed(None)

    reactor = MemoryReactorClock()  # records the attempt, never completes it
    ui = UI()
    client = ChatClient(reactor, "127.0.0.1", 9000, "ada", udp=False, ui=ui)
    client.start()
    assert len(reactor.tcpClients) == 1
    reactor.advance(CONNECT_LIMIT - 1)
    assert client.status is None
    reactor.advance(1)
    assert client.status == 1 and client.done.called
    assert ui.shown == ["Cannot connect to 127.0.0.1 port 9000: no answer within 30 seconds"]


def test_the_give_up_timer_ends_with_a_successful_connection():
    """
    Once connected, no give-up timer is left pending for the rest of the
    CONNECT_LIMIT (Deferred.addTimeout cancels its own).
    """
    from twisted.internet.defer import succeed
    from twisted.internet.testing import MemoryReactorClock, StringTransport

    from chatroom.client.main import CONNECT_LIMIT, ChatClient

    class UI:
        def show(self, text: str) -> None:
            raise AssertionError(text)

        def ask(self, prompt: str, secret: bool = False):
            return Deferred()

        def close(self):
            return succeed(None)

    reactor = MemoryReactorClock()
    client = ChatClient(reactor, "127.0.0.1", 9000, "ada", udp=False, ui=UI())
    client.start()
    factory = reactor.tcpClients[0][2]
    transport = StringTransport()
    factory.buildProtocol(None).makeConnection(transport)
    assert transport.value() == b"C LOGIN ada\n"
    assert reactor.getDelayedCalls() == []
    reactor.advance(CONNECT_LIMIT)
    assert client.status is None


def test_the_socket_is_connected_to_where_the_server_answers_from():
    """
    Only a connected socket hears ICMP port unreachable; it is connected to
    the address the server's first frame came from, which may differ from
    the one we wrote to.
    """
    clock = Clock()
    protocol, _, _ = client(clock)
    protocol.sendFrame("C LOGIN ada")
    protocol.datagramReceived(b"A 1000", ("127.0.1.1", 9000))  # an ack is not enough
    assert protocol.connectedTo is None
    protocol.datagramReceived(b"500 C HELLO chatroom 1 UDP", ("127.0.1.1", 9000))
    assert protocol.connectedTo == ("127.0.1.1", 9000)
    assert protocol.transport.connectedTo == ("127.0.1.1", 9000)


def test_a_refusal_is_reported_once():
    clock = Clock()
    frames: list[str] = []
    events: list[str] = []
    protocol = UDPClientProtocol(
        SERVER,
        Listener(frames.append, lambda: events.append("lost"), lambda: events.append("refused")),
        clock,
        random.Random(1),
    )
    protocol.transport = Wire()
    protocol.startProtocol()
    protocol.sendFrame("C LOGIN ada")
    protocol.connectionRefused()
    protocol.connectionRefused()
    run(clock, 30)
    assert events == ["refused"]
