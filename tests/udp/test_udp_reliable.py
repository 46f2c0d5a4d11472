"""
The reliability layer on its own: simulated time, scripted wires.
"""

from __future__ import annotations

import random

import pytest

from chatroom.datagrams import MAX_DATAGRAM, ackDatagram, frameDatagram, parseDatagram
from chatroom.reliable import (
    MAX_RETRIES,
    QUEUE_BYTES,
    QUEUE_LIMIT,
    REORDER_BYTES,
    RESEND_PER_TICK,
    LinkFailure,
    ReliableLink,
)
from chatroom.window import WINDOW


class End:
    """
    One side of a link, recording what it transmits and delivers.
    """

    def __init__(self, sendSeq: int = 1000, recvSeq: int | None = 5000) -> None:
        self.wire: list[bytes] = []
        self.delivered: list[bytes] = []
        self.failures: list[LinkFailure] = []
        self.link = ReliableLink(
            self.wire.append,
            self.delivered.append,
            self.failures.append,
            sendSeq,
            recvSeq,
        )

    def take(self) -> list[bytes]:
        wire, self.wire[:] = list(self.wire), []
        return wire


@pytest.mark.parametrize(
    "data, parsed",
    [
        (b"7 C PING", (7, b"C PING")),
        (b"0 D hello there", (0, b"D hello there")),
        (b"4294967295 C EX", (4294967295, b"C EX")),
        (b"12 C PING\n", (12, b"C PING")),
        (b"12 C PING\r\n", (12, b"C PING")),
        (b"12 ", (12, b"")),
        (b"A 42", (42, None)),
    ],
)
def test_parse(data, parsed):
    assert parseDatagram(data) == parsed


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"A",
        b"A ",
        b"A x",
        b"A 4294967296",
        b"4294967296 C PING",
        b"-1 C PING",
        b"+1 C PING",
        b"0x1 C PING",
        "１２ C PING".encode(),
        b"12345678901 C PING",
        b"C PING",
        b"7",
        b"\xff\xfe",
    ],
)
def test_parse_rejects(data):
    assert parseDatagram(data) is None


def test_encode():
    assert frameDatagram(7, b"C PING") == b"7 C PING"
    assert ackDatagram(7) == b"A 7"


def test_in_order_exactly_once_with_an_ack_each():
    end = End()
    for seq, frame in [
        (5000, b"a"),
        (5001, b"b"),
        (5000, b"a"),
        (5001, b"b"),
        (5002, b"c"),
    ]:
        end.link.frameReceived(seq, frame, 0)
    assert end.delivered == [b"a", b"b", b"c"]
    assert end.take() == [b"A 5000", b"A 5001", b"A 5000", b"A 5001", b"A 5002"]


def test_reordering_within_the_window():
    end = End()
    end.link.frameReceived(5002, b"c", 0)
    end.link.frameReceived(5001, b"b", 0)
    assert end.delivered == []
    end.link.frameReceived(5000, b"a", 0)
    assert end.delivered == [b"a", b"b", b"c"]
    assert end.take() == [b"A 5002", b"A 5001", b"A 5000"]


def test_frames_beyond_the_window_are_dropped_unacknowledged():
    end = End()
    end.link.frameReceived(5000 + WINDOW, b"far", 0)
    end.link.frameReceived(5000 + WINDOW - 1, b"edge", 0)
    assert end.take() == [b"A %d" % (5000 + WINDOW - 1)]
    for seq in range(5000, 5000 + WINDOW - 1):
        end.link.frameReceived(seq, b"x", 0)
    assert end.delivered[-1] == b"edge" and len(end.delivered) == WINDOW


def test_learns_the_peers_first_number():
    end = End(recvSeq=None)
    end.link.frameReceived(123, b"hello", 0)
    end.link.frameReceived(124, b"again", 0)
    assert end.delivered == [b"hello", b"again"]


def test_window_and_queue():
    end = End()
    for i in range(WINDOW + 10):
        end.link.send(b"f%d" % i, 0)
    sent = end.take()
    assert len(sent) == WINDOW and sent[0] == b"1000 f0"
    assert end.link.queued == 10
    end.link.ackReceived(1000, 0.01)
    end.link.ackReceived(1000, 0.01)  # a duplicate ack releases nothing more
    assert end.take() == [b"%d f%d" % (1000 + WINDOW, WINDOW)]


def test_queue_overflow_fails_the_link():
    end = End()
    for _ in range(WINDOW + QUEUE_LIMIT):
        end.link.send(b"x", 0)
    assert end.failures == []
    end.link.send(b"one too many", 0)
    assert end.failures == [LinkFailure.OVERFLOW] and end.link.dead
    end.link.send(b"after", 0)
    assert end.failures == [LinkFailure.OVERFLOW]


def test_retransmission_doubles_then_gives_up():
    end = End()
    end.link.send(b"hello?", 0)
    end.take()
    times = []
    now = 0.0
    while not end.failures and now < 120:
        now = round(now + 0.01, 2)
        end.link.tick(now)
        if end.take():
            times.append(now)
    # Each retry waits twice as long as the one before, from 200 ms; the
    # peer is gone when the sixth retry's timer runs out too.
    step = 0.011  # the test's clock moves in 10 ms steps
    waits = [later - earlier for earlier, later in zip([0.0, *times], [*times, now], strict=True)]
    assert waits == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8], abs=step)
    assert len(times) == MAX_RETRIES
    assert end.failures == [LinkFailure.GAVE_UP]


def test_rtt_estimate_and_karn():
    end = End()
    end.link.send(b"a", 0)
    end.link.ackReceived(1000, 0.05)
    assert end.link.srtt == pytest.approx(0.05)
    assert end.link.rto == pytest.approx(0.15)  # srtt + 4 * rttvar
    for i in range(20):
        end.link.send(b"b", 1.0 + i)
        end.link.ackReceived(1001 + i, 1.0 + i + 0.001)
    assert end.link.rto == pytest.approx(0.1)  # never below the floor
    end.link.send(b"lost once", 100)
    end.link.tick(100.2)  # retransmitted...
    end.link.ackReceived(1021, 100.9)  # ...so this ack could be for either
    assert end.link.rto == pytest.approx(0.1)


def test_a_live_peer_is_not_declared_gone():
    """
    A frame whose acks keep getting lost does not kill a peer that keeps
    acknowledging our other frames; the same silence from a vanished peer
    does.
    """
    end = End()
    end.link.send(b"unlucky", 0)
    now, ours = 0.0, 1001
    # Silent, it would be given up after 25.4 s; the window (63 more
    # frames behind the unlucky one) lets this go on for 31.5 s.
    while now < 31.5:
        now += 0.5
        end.link.send(b"more", now)
        end.link.ackReceived(ours, now + 0.01)
        ours += 1
        end.link.tick(now)
    assert end.failures == [] and end.link.inFlight == 1
    while now < 400 and not end.failures:
        now += 0.5
        end.link.tick(now)
    assert end.failures == [LinkFailure.GAVE_UP]


def test_a_peer_that_sends_but_never_acknowledges_is_gone():
    """
    PROTOCOL.md 5 (1.1): its new frames show that it sends, not that it
    receives us; it goes after the retries, like a silent peer.
    """
    end = End()
    end.link.send(b"never acknowledged", 0)
    now, theirs = 0.0, 5000
    while now < 400 and not end.failures:
        now += 0.5
        assert end.link.frameReceived(theirs, b"C PING", now) is True  # new: alive
        theirs += 1
        end.link.tick(now)
    assert end.failures == [LinkFailure.GAVE_UP]
    assert now < 30  # 0.2 + 0.4 + ... + 12.8 s of retries


def test_only_recent_duplicates_are_acknowledged_and_none_is_a_sign_of_life():
    end = End()
    for seq in range(5000, 5100):
        assert end.link.frameReceived(seq, b"C PING", 0) is True
    end.take()
    # Within the 64 below the next expected (5100): acknowledged again.
    assert end.link.frameReceived(5099, b"C PING", 1) is False
    assert end.link.frameReceived(5100 - WINDOW, b"C PING", 1) is False
    assert end.take() == [b"A 5099", b"A %d" % (5100 - WINDOW)]
    # Older: ignored, no answer.
    for stale in (5100 - WINDOW - 1, 5000, 0):
        assert end.link.frameReceived(stale, b"C PING", 2) is False
    assert end.take() == []
    assert len(end.delivered) == 100


def test_the_queue_is_bounded_in_bytes_too():
    end = End()
    big = b"x" * 8192
    for _ in range(WINDOW):
        end.link.send(big, 0)
    for _ in range(QUEUE_BYTES // len(big)):
        end.link.send(big, 0)
    assert end.failures == [] and end.link.queued == QUEUE_BYTES // len(big)
    end.link.send(big, 0)
    assert end.failures == [LinkFailure.OVERFLOW]


def test_a_frame_no_datagram_can_carry_is_refused_and_blocks_nothing():
    end = End()
    assert end.link.send(b"D " + b"x" * MAX_DATAGRAM, 0) is False
    assert end.link.send(b"after", 0) is True
    assert end.take() == [b"1000 after"]
    end.link.ackReceived(1000, 0.01)
    assert end.link.idle and end.failures == []


def test_window_spans_64_numbers_from_the_oldest_unacknowledged():
    end = End()
    for i in range(WINDOW + 5):
        end.link.send(b"f%d" % i, 0)
    end.take()
    for seq in range(1001, 1000 + WINDOW):  # all but the oldest
        end.link.ackReceived(seq, 0.001)
    # Only fast retransmits of 1000: nothing new while 1000 is missing,
    # since the peer would drop frame 1064 unacknowledged.
    assert set(end.take()) == {b"1000 f0"}
    end.link.ackReceived(1000, 0.002)
    assert end.take() == [b"%d f%d" % (1000 + i, i) for i in range(WINDOW, WINDOW + 5)]


def test_fast_retransmit_after_three_later_acks():
    end = End()
    for i in range(6):
        end.link.send(b"f%d" % i, 0)
    end.take()
    end.link.ackReceived(1001, 0.01)
    end.link.ackReceived(1002, 0.01)
    assert end.take() == []
    end.link.ackReceived(1003, 0.01)
    assert end.take() == [b"1000 f0"]  # long before its 200 ms timer
    end.link.ackReceived(1004, 0.02)
    assert end.take() == []  # once per three acks after the resend, not per ack
    # A fast retransmit does not double the timer: it fires when it would
    # have anyway (0.2 s after the first send), and only that doubles it.
    end.link.tick(0.19)
    assert end.take() == []
    end.link.tick(0.2)
    assert end.take() == [b"1000 f0", b"1005 f5"]
    end.link.tick(0.2 + 2 * end.link.rto - 0.001)
    assert end.take() == []
    before = (end.link.srtt, end.link.rttvar)
    end.link.ackReceived(1000, 0.9)
    assert (
        end.link.srtt,
        end.link.rttvar,
    ) == before  # Karn: no sample from a resent frame


def test_paused_link_leaves_frames_unacknowledged():
    end = End()
    end.link.frameReceived(5000, b"a", 0)
    end.link.pause()
    end.link.frameReceived(5001, b"b", 0)
    end.link.frameReceived(5000, b"a", 0)  # duplicates are still acknowledged
    assert end.take() == [b"A 5000", b"A 5000"]
    end.link.resume()
    end.link.frameReceived(5001, b"b", 0)
    assert end.delivered == [b"a", b"b"]


@pytest.mark.parametrize("seed", range(5))
def test_lossy_duplicating_reordering_network(seed):
    """
    Two links over a network that loses 20%, duplicates 5% and delays
    datagrams by random amounts: everything arrives once, in order.
    """
    rng = random.Random(seed)
    now = 0.0
    inTransit: list[tuple[float, int, End, bytes]] = []
    order = 0

    def network(to: End):
        def transmit(datagram: bytes) -> None:
            nonlocal order
            if rng.random() < 0.2:
                return
            copies = 2 if rng.random() < 0.05 else 1
            for _ in range(copies):
                order += 1
                inTransit.append((now + rng.uniform(0.001, 0.08), order, to, datagram))

        return transmit

    a, b = End(100, 900), End(900, 100)
    a.link._transmit = network(b)
    b.link._transmit = network(a)
    count = 400
    for i in range(count):
        a.link.send(b"a%d" % i, now)
        b.link.send(b"b%d" % i, now)
    while (a.link.idle and b.link.idle) is False and now < 600:
        now += 0.005
        inTransit.sort()
        while inTransit and inTransit[0][0] <= now:
            _, _, to, datagram = inTransit.pop(0)
            seq, frame = parseDatagram(datagram)
            if frame is None:
                to.link.ackReceived(seq, now)
            else:
                to.link.frameReceived(seq, frame, now)
        a.link.tick(now)
        b.link.tick(now)
    assert a.failures == b.failures == []
    assert b.delivered == [b"a%d" % i for i in range(count)]
    assert a.delivered == [b"b%d" % i for i in range(count)]
    assert a.link.retransmissions > 0


def test_out_of_order_frames_have_a_byte_budget():
    end = End()
    big = b"x" * 4096
    accepted = [end.link.frameReceived(5001 + i, big, 0) for i in range(WINDOW - 1)]
    assert accepted.count(True) == REORDER_BYTES // len(big)
    assert not accepted[-1]  # over the budget: unacknowledged, sent again later
    assert end.link.frameReceived(5000, b"first", 0)
    assert end.delivered[0] == b"first" and len(end.delivered) == 1 + accepted.count(True)


def test_acks_for_nothing_in_flight_are_no_sign_of_life():
    end = End()
    end.link.send(b"x", 0)
    assert end.link.ackReceived(999, 5.0) is False
    assert end.link.lastAcked == 0
    assert end.link.ackReceived(1000, 6.0) is True and end.link.lastAcked == 6.0


def test_timer_resends_are_spread_over_ticks():
    end = End()
    for i in range(WINDOW):
        end.link.send(b"f%d" % i, 0)
    end.take()
    end.link.tick(0.2)
    assert len(end.take()) == RESEND_PER_TICK
    end.link.tick(0.225)
    assert len(end.take()) == RESEND_PER_TICK


def test_oversize_frames_are_cut_when_parsed():
    _seq, frame = parseDatagram(b"1 D " + b"y" * 70000, limit=4096)
    assert len(frame) == 4097
