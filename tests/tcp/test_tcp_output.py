"""
The TCP output path: when flushes happen, and writes that go straight to the
socket, over real sockets, including the transports they must leave alone.
"""

from __future__ import annotations

import socket
import struct

import pytest
import pytest_twisted
from helpers.certs import selfSigned
from twisted.internet import defer, protocol, ssl
from twisted.internet.endpoints import SSL4ClientEndpoint, TCP4ClientEndpoint, serverFromString
from twisted.internet.task import Clock, deferLater
from twisted.internet.testing import StringTransport

from chatroom.output import FLUSH_INTERVAL, Flusher, canWriteDirectly, writeNow


class Recorder:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.flushes: list[float] = []

    def flush(self) -> None:
        self.flushes.append(self.clock.seconds())


def test_output_after_a_quiet_spell_goes_at_the_end_of_the_turn():
    clock = Clock()
    clock.advance(100)
    flusher, connection = Flusher(clock), Recorder(clock)
    flusher.later(connection)
    clock.advance(0)
    assert connection.flushes == [100]


def test_busy_output_is_flushed_at_most_once_per_interval():
    clock = Clock()
    flusher, connection = Flusher(clock), Recorder(clock)
    flusher.later(connection)
    clock.advance(0)  # the first goes at once
    clock.advance(FLUSH_INTERVAL / 4)
    flusher.later(connection)
    clock.advance(0)
    assert len(connection.flushes) == 1  # waits for the interval to end
    clock.advance(FLUSH_INTERVAL * 3 / 4)
    assert connection.flushes == [0, FLUSH_INTERVAL]
    clock.advance(FLUSH_INTERVAL * 10)  # quiet again
    flusher.later(connection)
    clock.advance(0)
    assert connection.flushes[-1] == pytest.approx(FLUSH_INTERVAL * 11)


def test_every_waiting_connection_is_flushed_once():
    clock = Clock()
    flusher = Flusher(clock)
    connections = [Recorder(clock) for _ in range(3)]
    for connection in connections:
        flusher.later(connection)
    flusher.flush()  # a flush called directly cancels the scheduled one
    clock.advance(FLUSH_INTERVAL * 2)
    assert [len(c.flushes) for c in connections] == [1, 1, 1]


def test_only_twisteds_own_tcp_connections_are_written_directly():
    assert not canWriteDirectly(StringTransport())
    assert not canWriteDirectly(object())


class Remember(protocol.Protocol):
    """
    The server side: keeps its transport for the test to write to.
    """

    def __init__(self, made: defer.Deferred, lost: defer.Deferred) -> None:
        self.made, self.lost = made, lost

    def connectionMade(self) -> None:
        self.made.callback(self)

    def connectionLost(self, reason=None) -> None:
        self.lost.callback(None)


class RememberFactory(protocol.Factory):
    def __init__(self) -> None:
        self.made: defer.Deferred = defer.Deferred()
        self.lost: defer.Deferred = defer.Deferred()

    def buildProtocol(self, addr):
        return Remember(self.made, self.lost)


class Collect(protocol.Protocol):
    def __init__(self) -> None:
        self.data = bytearray()

    def dataReceived(self, data: bytes) -> None:
        self.data += data


async def listen(reactor, description: str) -> tuple[RememberFactory, object]:
    factory = RememberFactory()
    port = await serverFromString(reactor, description).listen(factory)
    return factory, port


@pytest_twisted.ensureDeferred
async def test_what_the_socket_does_not_take_follows_in_order():
    """
    A client that reads nothing while 16 MiB are written: the kernel takes
    what it can, Twisted's buffer the rest, and the client gets every byte
    in order once it reads.
    """
    from twisted.internet import reactor

    factory, port = await listen(reactor, "tcp:0:interface=127.0.0.1")
    client = Collect()
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    await endpoint.connect(protocol.Factory.forProtocol(lambda: client))
    client.transport.pauseProducing()
    server = await factory.made
    try:
        assert canWriteDirectly(server.transport)
        chunks = [struct.pack("!I", i) * 16384 for i in range(256)]  # 64 KiB each
        for chunk in chunks:
            writeNow(server.transport, chunk)
        # The kernel could not take it all: Twisted holds the rest.
        assert server.transport.dataBuffer or server.transport._tempDataBuffer
        client.transport.resumeProducing()
        expected = b"".join(chunks)
        for _ in range(2000):
            if len(client.data) >= len(expected):
                break
            await deferLater(reactor, 0.01, lambda: None)
        assert bytes(client.data) == expected
    finally:
        client.transport.loseConnection()
        await factory.lost
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_a_reset_connection_is_reported_lost_not_raised():
    from twisted.internet import reactor

    factory, port = await listen(reactor, "tcp:0:interface=127.0.0.1")
    raw = socket.create_connection(("127.0.0.1", port.getHost().port))
    server = await factory.made
    try:
        # Close with a reset: the next send fails with ECONNRESET or EPIPE.
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
        await deferLater(reactor, 0.05, lambda: None)
        for _ in range(3):
            writeNow(server.transport, b"anyone there?\r\n")
        await factory.lost.addTimeout(5, reactor)
    finally:
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_tls_connections_are_left_to_twisted(tmp_path):
    """
    TLS wraps the socket: writing to it directly would bypass encryption.
    """
    from twisted.internet import reactor

    key, cert = selfSigned(tmp_path)
    factory, port = await listen(
        reactor, f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    )
    trust = ssl.Certificate.loadPEM(cert.read_bytes())
    options = ssl.optionsForClientTLS("localhost", trustRoot=trust)
    client = Collect()
    endpoint = SSL4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port, options)
    await endpoint.connect(protocol.Factory.forProtocol(lambda: client))
    server = await factory.made
    try:
        assert not canWriteDirectly(server.transport)
    finally:
        client.transport.loseConnection()
        await factory.lost
        await port.stopListening()
