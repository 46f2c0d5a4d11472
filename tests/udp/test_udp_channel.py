"""
One UDP channel's lifecycle (OPEN, CLOSING, FORGOTTEN) on a fake clock, with
a recording session table: every move, and every late input ignored.
"""

from __future__ import annotations

import pytest
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import Clock
from twisted.logger import Logger
from zope.interface.verify import verifyObject

from chatroom import pipeline
from chatroom.datagrams import parseDatagram
from chatroom.pipeline import IChannel
from chatroom.reliable import LinkFailure
from chatroom.udp import UDPTimings
from chatroom.udp.channel import TRANSITIONS, ChannelState, UDPChannel
from chatroom.window import SendWindow

ADDR = ("192.0.2.1", 4000)


class Table:
    """
    The session table as a channel sees it (a ChannelHost), recording.
    """

    log = Logger()
    encrypted = False

    def __init__(self, clock: Clock, timings: UDPTimings) -> None:
        self.clock: IReactorTime = clock
        self.timings = timings
        self.sendWindow = SendWindow()
        self.wire: list[bytes] = []
        self.tracked: set[UDPChannel] = set()
        self.closing: set[UDPChannel] = set()
        self.released: list[UDPChannel] = []
        self.grace = timings.closeLimit

    def now(self) -> float:
        return self.clock.seconds()

    def write(self, datagram: bytes, addr: tuple[str, int]) -> None:
        self.wire.append(datagram)

    def track(self, channel: UDPChannel) -> None:
        self.tracked.add(channel)

    def untrack(self, channel: UDPChannel) -> None:
        self.tracked.discard(channel)

    def closeGrace(self) -> float:
        return self.grace

    def watchClosing(self, channel: UDPChannel) -> None:
        self.closing.add(channel)

    def release(self, channel: UDPChannel) -> None:
        self.released.append(channel)


class Session(pipeline.Session):
    """
    Records what the channel tells its session; none of the pipeline runs.
    """

    def __init__(self) -> None:  # the pipeline's own state is never used
        self.lines: list[bytes] = []
        self.closed: list[str] = []

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)

    def channelClosed(self, reason: str) -> None:
        self.closed.append(reason)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table(clock: Clock) -> Table:
    return Table(clock, UDPTimings(closeLimit=30))


def channel(table: Table) -> tuple[UDPChannel, Session]:
    c = UDPChannel(table, ADDR, sendSeq=500, recvSeq=100, now=table.now())
    session = Session()
    c.session = session
    return c, session


def lastSeq(table: Table) -> int:
    parsed = parseDatagram(table.wire[-1])
    assert parsed is not None
    return parsed[0]


def test_a_udp_channel_is_a_channel(table: Table) -> None:
    """
    What the room is handed is an L{IChannel}, with the peer's address.
    """
    c, _ = channel(table)
    assert verifyObject(IChannel, c)
    assert (c.transportName, c.peer, c.host) == ("UDP", "192.0.2.1:4000", "192.0.2.1")


def test_forgotten_is_final():
    assert not [move for move in TRANSITIONS if move[0] is ChannelState.FORGOTTEN]


def test_closing_an_idle_channel_forgets_it_at_once(table):
    c, session = channel(table)
    done = c.close()
    assert c.state is ChannelState.FORGOTTEN and done.called
    assert session.closed == ["CLOSED"] and table.released == [c]


def test_a_closing_channel_waits_for_its_last_ack_and_handles_nothing(table, clock):
    c, session = channel(table)
    c.send(b"C BYE EXIT")
    assert c in table.tracked and c.sending
    done = c.close()
    assert c.state is ChannelState.CLOSING and c in table.closing and not done.called
    assert c.closeBy == 30.0
    c.received(100, b"C PING", clock.seconds())  # acknowledged, not handled
    assert session.lines == [] and table.wire[-1] == b"A 100"
    assert c.received(0, None, clock.seconds()) is False  # an ack of nothing
    assert c.state is ChannelState.CLOSING
    c.received(500, None, clock.seconds())
    assert c.state is ChannelState.FORGOTTEN and done.called and session.closed == ["CLOSED"]


def test_a_closing_channel_is_forgotten_at_its_deadline_acked_or_not(table, clock):
    c, session = channel(table)
    c.send(b"C BYE EXIT")
    c.close()
    c.deadline(29.9)
    assert c.state is ChannelState.CLOSING
    c.hurry(10.0)  # shutting down: sooner
    c.hurry(20.0)  # never later again
    assert c.closeBy == 10.0
    c.deadline(10.0)
    assert c.state is ChannelState.FORGOTTEN and session.closed == ["CLOSED"]


def test_late_inputs_are_ignored_once_forgotten(table, clock):
    c, session = channel(table)
    c.send(b"C PONG")
    c.forget("TIMEOUT")
    assert c.state is ChannelState.FORGOTTEN
    c.forget(None)
    c.deadline(1e9)
    c.hurry(0.0)
    assert c.close().called
    assert c.received(101, b"C PING", 1.0) is False  # no sign of life any more
    assert session.closed == ["TIMEOUT"] and table.released == [c] and not c.sending


def test_an_open_channel_delivers_in_order(table, clock):
    c, session = channel(table)
    assert c.received(101, b"C PING b", 0.0) is True
    assert session.lines == []
    c.received(100, b"C PING a", 0.0)
    assert session.lines == [b"C PING a", b"C PING b"]


@pytest.mark.parametrize(
    "failure, reason",
    [
        (LinkFailure.GAVE_UP, "TIMEOUT"),
        (LinkFailure.EXHAUSTED, "TIMEOUT"),
        (LinkFailure.OVERFLOW, "DROPPED"),
    ],
)
def test_link_failures_become_chat_reasons_on_the_next_turn(table, clock, failure, reason):
    c, session = channel(table)
    c.failed(failure)
    assert c.state is ChannelState.OPEN  # never from inside send()
    clock.advance(0)
    assert c.state is ChannelState.FORGOTTEN and session.closed == [reason]


def test_a_silent_peer_is_given_up_and_the_tick_reports_it(clock):
    table = Table(clock, UDPTimings(initialRTO=0.1, minRTO=0.1))
    c, session = channel(table)
    c.send(b"D hello")
    while c.state is ChannelState.OPEN and clock.seconds() < 60:
        clock.advance(0.025)
        c.tick(clock.seconds(), 512)
    assert len(table.wire) == 1 + 6  # sent, then resent six times
    assert session.closed == ["TIMEOUT"] and not c.sending
    assert clock.seconds() < 0.1 * 2**7 + 1  # the injected timer, not the default
