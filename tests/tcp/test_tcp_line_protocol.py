"""
The TCP line protocol against an in-memory transport.
"""

from __future__ import annotations

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from zope.interface.verify import verifyObject

from chatroom.output import FLUSH_INTERVAL
from chatroom.pipeline import IChannel
from chatroom.room import Room
from chatroom.stream import CLOSE_GRACE
from chatroom.tcp import ChatFactory


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(clock):
    service = Room(clock, accounts=None)
    service.startService()
    return service


class RecordingTransport(StringTransport):
    aborted = False
    clock: Clock  # the fake reactor: output is flushed within FLUSH_INTERVAL

    def abortConnection(self) -> None:
        self.aborted = True


def connect(service, clock):
    protocol = ChatFactory(service, clock).buildProtocol(None)
    transport = RecordingTransport(peerAddress=IPv4Address("TCP", "192.0.2.1", 4242))
    transport.clock = clock
    protocol.makeConnection(transport)
    return protocol, transport


def frames(transport: RecordingTransport) -> list[bytes]:
    """
    What was written by the next flush.
    """
    transport.clock.advance(FLUSH_INTERVAL)
    out = transport.value()
    transport.clear()
    assert out.endswith(b"\r\n") or out == b""
    return out.split(b"\r\n")[:-1]


def test_a_tcp_connection_is_a_channel(service, clock):
    """
    What the room is handed is an L{IChannel}, with the peer's address.
    """
    protocol, _ = connect(service, clock)
    channel = protocol.channel
    assert verifyObject(IChannel, channel)
    assert (channel.transportName, channel.peer, channel.host) == (
        "TCP",
        "192.0.2.1:4242",
        "192.0.2.1",
    )


def test_every_split_of_the_input_gives_the_same_frames(service, clock):
    stream = b"C LOGIN kim\r\nC PING a\nC " + b"Q" * 5000 + b"\nC PING b\r\n"
    expected = None
    for size in (1, 2, 7, 4096, 4097, len(stream)):
        protocol, transport = connect(service, clock)
        for start in range(0, len(stream), size):
            protocol.dataReceived(stream[start : start + size])
        got = frames(transport)
        assert got[0] == b"C HELLO chatroom 1 TCP"
        assert got[2] == b"C PONG a" and got[3].startswith(b"C ERR TOO_LONG ")
        assert got[4] == b"C PONG b" and len(got) == 5
        expected = expected or got[1:]
        assert got[1:] == expected
        protocol.connectionLost()
    assert expected[0] == b"C WELCOME kim TCP Welcome kim, you are connected via TCP."


def test_a_frame_of_4096_bytes_with_cr_is_not_too_long(service, clock):
    protocol, transport = connect(service, clock)
    frames(transport)
    protocol.dataReceived(b"C PING " + b"p" * 4089 + b"\r\n")
    assert frames(transport) == [b"C PONG " + b"p" * 4089]
    protocol.dataReceived(b"C PING " + b"p" * 4090 + b"\n")
    assert frames(transport)[0].startswith(b"C ERR TOO_LONG ")


def test_close_cuts_a_client_that_does_not_read(service, clock):
    protocol, transport = connect(service, clock)
    protocol.dataReceived(b"C EX\n")
    assert frames(transport) == [b"C HELLO chatroom 1 TCP", b"C BYE EXIT"]
    assert transport.disconnecting
    clock.advance(CLOSE_GRACE - 0.1)
    assert not transport.aborted
    clock.advance(0.1)
    assert transport.aborted


def test_close_does_not_cut_a_connection_that_closed(service, clock):
    protocol, transport = connect(service, clock)
    closing = protocol.channel.close()
    protocol.connectionLost()
    assert closing.called
    clock.advance(CLOSE_GRACE)
    assert not transport.aborted
    assert protocol.channel.close().called


def test_a_slow_reader_overflowing_mid_broadcast(service, clock):
    """
    A client's send queue overflows while a public message is being fanned
    out: everyone after it in the room still gets the message, and the slow
    one leaves (DROPPED) on the next turn, not in the middle of the loop.
    """
    people = []
    for name in ["sender", "slow", "after1", "after2"]:
        protocol, transport = connect(service, clock)
        protocol.dataReceived(f"C LOGIN {name}\n".encode())
        people.append((protocol, transport))
    clock.advance(FLUSH_INTERVAL)  # the join notices are out
    slow = people[1][0]
    slow.channel.sendq.limit = 10
    slow.channel.sendq.pauseProducing()  # its socket buffer is full
    for _, transport in people:
        transport.clear()
    people[0][0].dataReceived(b"C PM\nD hello everyone\n")
    clock.advance(FLUSH_INTERVAL)  # the flush, in which the slow one overflows
    clock.advance(FLUSH_INTERVAL)  # the next, with the LEAVE notices
    assert people[1][1].aborted
    assert people[0][1].value().endswith(b"C OK PM 3\r\nC LEAVE slow TCP DROPPED\r\n")
    for _, transport in people[2:]:
        assert transport.value() == (
            b"D PM sender TCP hello everyone\r\nC LEAVE slow TCP DROPPED\r\n"
        )
    assert "slow" not in {s.name for s in service.roster.online.values()}
