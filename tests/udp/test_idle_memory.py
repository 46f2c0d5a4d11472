"""
What an idle session keeps once a burst is over (issue 11's memory goal).

Python's containers never shrink: a dict that held a burst keeps its table,
and an empty deque is 760 bytes. Thousands of idle sessions each holding
what their last burst grew is most of their memory, so an idle session must
hold no inbox, no send queue, and only fresh (small) in-flight and reorder
tables. The figures themselves are the benchmark's (``--only memory``).
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict

import pytest
import pytest_twisted
from helpers.udpwire import ack, logIn
from helpers.waits import eventually
from helpers.wire import connect, loggedIn
from twisted.internet.task import Clock

from chatroom import names
from chatroom.datagrams import parseDatagram
from chatroom.heap import HeapTrimmer, libcTrim
from chatroom.reliable import ReliableLink
from chatroom.roster import Roster
from chatroom.window import MIN_WINDOW, WINDOW, SendWindow

#: More than the window: the link's queue is used, the in-flight table fills up.
BURST = WINDOW + 36

FRESH_ORDERED = sys.getsizeof(OrderedDict())
FRESH_DICT = sys.getsizeof({})


def assertIdle(link: ReliableLink) -> None:
    assert link.idle and link.queued == 0
    assert link._queue is None
    assert sys.getsizeof(link._inFlight) == FRESH_ORDERED
    assert sys.getsizeof(link._reorder) == FRESH_DICT


@pytest_twisted.ensureDeferred
async def test_idle_sessions_keep_nothing_their_last_burst_grew(startServer, udp):
    """
    Over real sockets: a TCP user pipelines a burst of public messages to a
    UDP user (more than the window, so frames queue behind it). Once all are
    acknowledged, neither session keeps an inbox, and the UDP link keeps no
    queue and only fresh tables.
    """
    server = await startServer("--msg-rate=0")
    bob = await udp.reliable(server.udpPort)
    await logIn(bob, "bob")
    alice = await loggedIn(server.port, "alice")
    assert await bob.next() == "C JOIN alice TCP"
    alice.send(*[line for i in range(BURST) for line in ("C PM", f"D burst {i}")])
    for _ in range(BURST):
        await alice.expect("C ACK PM", "C OK PM 1")
    for i in range(BURST):
        assert await bob.next() == f"D PM alice TCP burst {i}"
    # A UDP session that sent a PING and got its PONG is as idle as before.
    bob.send("C PING idle")
    assert await bob.next() == "C PONG idle"
    sessions = {s.name: s for s in server.chat.sessions}
    channel = sessions["bob"].channel
    protocol = server.udp.protocol
    await eventually(lambda: channel not in protocol._sending, "the link to be idle and unwatched")
    assertIdle(channel.link)
    assert sessions["bob"].inbox is None
    assert sessions["alice"].inbox is None
    # A name that is its own key is kept once, not as three equal strings.
    bobPresent = sessions["bob"]
    assert bobPresent.lookalikeKey is bobPresent.name
    assert server.chat.roster.shown["bob"] is bobPresent
    assert server.chat.roster._shownBy[bobPresent] is bobPresent.name


def test_a_name_shares_its_keys_when_they_are_equal():
    name = "".join(["ka", "tie"])  # not the interned literal
    assert names.key(name) is name and names.shownKey(name) is name
    # Different keys stay different strings (since 1.2 an l is written i in a key).
    assert names.key("Katie") == "katie" and names.shownKey("Katie") == "Katie"
    assert names.key("alice") == "aiice"
    # The roster keeps one string when the shown key equals the name key.
    roster = Roster()
    session = type("S", (), {})()
    session.name, session.lookalikeKey = "idle123", names.key("idle123")
    roster.enter(session)
    assert roster._shownBy[session] is session.lookalikeKey


def test_a_drained_in_flight_table_is_replaced_on_the_tick_that_stops_watching():
    sent: list[bytes] = []
    link = ReliableLink(sent.append, lambda frame: None, lambda why: None, 1000, 5000)
    for i in range(BURST):
        link.send(b"frame %d" % i, 0.0)
    assert link.inFlight == WINDOW and link.queued == BURST - WINDOW
    grown = link._inFlight
    for seq in range(1000, 1000 + BURST):
        assert link.ackReceived(seq, 0.01)
    assert link.idle and link._queue is None
    assert link._inFlight is grown  # replaced by the timer, never on an ack
    assert link.tick(0.05) == 0
    assertIdle(link)
    # It works as before afterwards.
    link.send(b"again", 0.1)
    assert sent[-1] == b"%d again" % (1000 + BURST) and link.inFlight == 1


def test_frames_in_order_leave_no_reorder_table_and_a_filled_gap_a_fresh_one():
    delivered: list[bytes] = []
    link = ReliableLink(lambda datagram: None, delivered.append, lambda why: None, 1000, 5000)
    for seq in range(5000, 5000 + BURST):
        assert link.frameReceived(seq, b"in order %d" % seq, 0.0)
    assert len(delivered) == BURST
    assert sys.getsizeof(link._reorder) == FRESH_DICT
    # Out of order, then the gap filled: all delivered, in order, and the
    # table that held them is not kept.
    after = 5000 + BURST
    for seq in range(after + 1, after + 40):
        link.frameReceived(seq, b"%d" % seq, 0.0)
    link.frameReceived(after, b"%d" % after, 0.0)
    assert delivered[BURST:] == [b"%d" % seq for seq in range(after, after + 40)]
    assertIdle(link)


@pytest.mark.parametrize(
    "links, frames",
    [(1, WINDOW), (256, WINDOW), (257, 32), (1000, 16), (1024, 16), (5000, MIN_WINDOW)],
)
def test_the_send_window_is_shared_out_as_links_grow(links, frames):
    window = SendWindow()
    window.share(links, 16384)
    assert window.frames == frames


@pytest_twisted.ensureDeferred
async def test_a_session_has_no_more_frames_in_flight_than_its_share(startServer, udp):
    """
    Over real sockets, with a budget of 8 frames in flight for all sessions:
    a UDP client that acknowledges nothing gets 8 new frames of a burst of 30
    (however often they are resent), and the rest once it acknowledges them.
    """
    server = await startServer("--msg-rate=0", "--no-accounts", udp={"inFlightBudget": 8})
    bob = await udp.raw(server.udpPort)
    bob.send(b"1000 C LOGIN bob")
    helloSeq, hello = parseDatagram(await bob.next())
    assert hello == b"C HELLO chatroom 1 UDP"
    bob.send(ack(helloSeq))
    answers = [await bob.next(), await bob.next()]  # in either order
    assert b"A 1000" in answers
    answers.remove(b"A 1000")
    serverSeq, welcome = parseDatagram(answers[0])
    assert serverSeq == helloSeq + 1 and welcome.startswith(b"C WELCOME bob UDP ")
    bob.send(ack(serverSeq))
    alice = await connect(server.port)
    alice.send("C LOGIN alice")
    await alice.expect("C HELLO chatroom 1 TCP")
    assert (await alice.next()).startswith("C WELCOME alice TCP ")
    alice.send(*[line for i in range(30) for line in ("C PM", f"D burst {i}")])
    for _ in range(30):
        await alice.expect("C ACK PM", "C OK PM 1")
    await bob.nothingFor(0.5)  # long enough for resends, which bring nothing new
    seen = {parseDatagram(d) for d in bob.pending()}
    assert sorted(seen)[0] == (serverSeq + 1, b"C JOIN alice TCP")
    assert len({seq for seq, _ in seen}) == 8
    # Acknowledged, the rest follow, in order, once each.
    frames: dict[int, bytes] = dict(seen)
    deadline = time.monotonic() + 10
    while len(frames) < 31:
        assert time.monotonic() < deadline, f"only {len(frames)} of 31 frames"
        for seq in list(frames):
            bob.send(ack(seq))
        for datagram in [await bob.next(), *bob.pending()]:
            seq, frame = parseDatagram(datagram)
            frames[seq] = frame
    assert [frames[serverSeq + 2 + i] for i in range(30)] == [
        b"D PM alice TCP burst %d" % i for i in range(30)
    ]


def test_the_heap_is_trimmed_every_interval_while_running():
    clock = Clock()
    calls: list[None] = []
    trimmer = HeapTrimmer(clock, lambda: calls.append(None), interval=1.0)
    clock.advance(5)
    assert calls == []  # not before it starts
    trimmer.startService()
    clock.advance(0.5)
    assert calls == []
    clock.advance(0.5)
    clock.advance(1.0)
    assert len(calls) == 2 and trimmer.trims == 2
    trimmer.stopService()
    clock.advance(10)
    assert len(calls) == 2


def test_without_malloc_trim_the_trimmer_does_nothing():
    clock = Clock()
    trimmer = HeapTrimmer(clock, None)
    trimmer.startService()
    clock.advance(10)
    assert trimmer.trims == 0 and clock.getDelayedCalls() == []
    trimmer.stopService()


@pytest_twisted.ensureDeferred
async def test_a_running_server_trims_its_heap(startServer):
    """
    The real server, on this system's C library: glibc's malloc_trim is
    found and called (elsewhere there is none to call, and nothing is).
    """
    server = await startServer()
    trimmer = server.top.getServiceNamed("heap")
    if libcTrim() is None:
        assert trimmer.trim is None
        return
    await eventually(lambda: trimmer.trims >= 1, "a trim", timeout=10.0)
    client = await loggedIn(server.port, "alice")  # and the server serves as before
    client.send("C PING")
    await client.expect("C PONG")
