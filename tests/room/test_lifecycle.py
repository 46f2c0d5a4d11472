"""
The session lifecycle machine and the room's verb table, without I/O.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from helpers.fakes import FakeChannel, ManualAccounts, feed
from twisted.internet.task import Clock

from chatroom.codec import Err, Frame, FrameError, Reason
from chatroom.lifecycle import TRANSITIONS, IllegalMove, Lifecycle, Phase
from chatroom.room import Args, Room
from chatroom.settings import RoomLimits

# Paths from NEW to each phase, so every phase can be reached honestly.
PATHS = {
    Phase.NEW: [],
    Phase.LOOKING_UP: [Phase.LOOKING_UP],
    Phase.AWAITING_PASSWORD: [Phase.LOOKING_UP, Phase.AWAITING_PASSWORD],
    Phase.CHECKING_PASSWORD: [
        Phase.LOOKING_UP,
        Phase.AWAITING_PASSWORD,
        Phase.CHECKING_PASSWORD,
    ],
    Phase.ACTIVE: [Phase.ACTIVE],
    Phase.ENDED: [Phase.ENDED],
}


def lifecycleIn(phase: Phase) -> Lifecycle:
    life = Lifecycle()
    for step in PATHS[phase]:
        life.move(step)
    assert life.phase is phase
    return life


#: Every move a session may make, written out here rather than read from
#: L{TRANSITIONS}, so that a change to the table has to be a change here too.
ALLOWED = {
    # A login begins with the account look-up; without accounts it is a welcome at once.
    (Phase.NEW, Phase.LOOKING_UP),
    (Phase.NEW, Phase.ACTIVE),
    # The look-up answers, C{C PASSWORD} is sent, C{C PASS} arrives and is checked.
    (Phase.LOOKING_UP, Phase.AWAITING_PASSWORD),
    (Phase.AWAITING_PASSWORD, Phase.CHECKING_PASSWORD),
    (Phase.CHECKING_PASSWORD, Phase.ACTIVE),
    # A login that fails, or that the client gives up, starts again from NEW.
    (Phase.LOOKING_UP, Phase.NEW),
    (Phase.AWAITING_PASSWORD, Phase.NEW),
    (Phase.CHECKING_PASSWORD, Phase.NEW),
    # Any phase may end; nothing follows the end.
    (Phase.NEW, Phase.ENDED),
    (Phase.LOOKING_UP, Phase.ENDED),
    (Phase.AWAITING_PASSWORD, Phase.ENDED),
    (Phase.CHECKING_PASSWORD, Phase.ENDED),
    (Phase.ACTIVE, Phase.ENDED),
}


@pytest.mark.parametrize(("start", "to"), list(itertools.product(Phase, Phase)))
def test_only_the_table_moves(start, to):
    """
    Each of the 36 moves is made or refused exactly as L{ALLOWED} says.
    """
    life = lifecycleIn(start)
    if (start, to) in ALLOWED:
        life.move(to)
        assert life.phase is to
    else:
        with pytest.raises(IllegalMove):
            life.move(to)
        assert life.phase is start


def test_ended_is_final_and_everything_may_end():
    assert TRANSITIONS[Phase.ENDED] == frozenset()
    assert all(Phase.ENDED in TRANSITIONS[p] for p in Phase if p is not Phase.ENDED)


@pytest.mark.parametrize("waiting", [Phase.LOOKING_UP, Phase.CHECKING_PASSWORD])
@pytest.mark.parametrize("then", list(Phase))
def test_a_late_answer_is_dropped_in_every_phase(waiting, then):
    """
    An answer for a wait the session left, whichever phase it is in now
    (even the same phase again, as a login started anew), is never run.
    """
    life = Lifecycle()
    for step in PATHS[waiting][:-1]:
        life.move(step)
    ticket = life.wait(waiting)
    ran = []
    deliver = life.answer(ticket, lambda result: ran.append(result))
    # Leave the wait, then go wherever `then` is, by any legal path.
    life.move(Phase.ENDED if then is Phase.ENDED else Phase.NEW)
    if then is not Phase.ENDED:
        for step in PATHS[then]:
            life.move(step)
    assert life.phase is then
    assert deliver("late") is None and ran == []


def test_a_current_answer_runs():
    life = Lifecycle()
    ticket = life.wait(Phase.LOOKING_UP)
    assert life.answer(ticket, lambda result, extra: (result, extra), "x")("ok") == ("ok", "x")


# The same, through the room: answers that come after the session moved on.


@pytest.fixture
def room() -> tuple[Room, ManualAccounts, Clock]:
    clock, accounts = Clock(), ManualAccounts()
    room = Room(clock, accounts, limits=replace(RoomLimits(), msgRate=0))
    room.startService()
    return room, accounts, clock


@pytest.mark.parametrize("ending", ["closed", "timeout", "shutdown"])
@pytest.mark.parametrize("waitingFor", ["lookup", "password"])
def test_room_ignores_answers_for_a_session_that_ended(room, ending, waitingFor):
    room, accounts, clock = room
    channel = FakeChannel()
    session = room.connect(channel)
    feed(session, "C LOGIN alice", "C PASS pw")
    if waitingFor == "password":
        accounts.release()
        assert session.phase is Phase.CHECKING_PASSWORD
    else:
        assert session.phase is Phase.LOOKING_UP
    if ending == "closed":
        session.channelClosed(Reason.CLOSED)
    elif ending == "timeout":
        clock.advance(room.limits.loginTimeout + 1)
    else:
        room.stopService()
    sent = list(channel.sent)
    accounts.release()
    accounts.release()
    assert session.phase is Phase.ENDED
    assert channel.sent == sent  # the late answer said nothing
    assert room.roster.online == {} and room.roster.reserved == {}
    assert room.sessions == set()


def test_a_store_failure_after_the_end_is_dropped(room):
    room, accounts, _clock = room
    channel = FakeChannel()
    session = room.connect(channel)
    accounts.isRegistered = lambda name: accounts._later(OSError("disk on fire"))
    failures = []
    room.failed = lambda failure, session: failures.append(failure)
    feed(session, "C LOGIN alice")
    session.channelClosed(Reason.CLOSED)
    accounts.release()
    assert failures == [] and channel.sent == ["C HELLO chatroom 1 TCP"]


# The verb table.

CHECKS = {
    # verb: (a frame that is right in the right phase, the phase, its answer)
    "PM": ("C PM", Phase.ACTIVE, "C ACK PM"),
    "DM": ("C DM", Phase.ACTIVE, "C USERS solo:TCP"),
    "WHO": ("C WHO", Phase.ACTIVE, "C USERS solo:TCP"),
    "HISTORY": ("C HISTORY", Phase.ACTIVE, "C HISTORY 0"),
    "PING": ("C PING x", Phase.NEW, "C PONG x"),
    "EX": ("C EX", Phase.NEW, "C BYE EXIT"),
    # Without accounts there are no roles nor passwords (1.2).
    "PASSWD": (
        "C PASSWD",
        Phase.ACTIVE,
        "C ERR DENIED this server has no accounts, so no passwords",
    ),
    "KICK": (
        "C KICK bob",
        Phase.ACTIVE,
        "C ERR DENIED this server has no accounts, so no moderators",
    ),
    "BANS": ("C BANS", Phase.ACTIVE, "C ERR DENIED this server has no accounts, so no moderators"),
}


def test_every_verb_is_in_the_table():
    room = Room(Clock(), None)
    assert set(room.verbs) == {
        "LOGIN",
        "PASS",
        "PM",
        "DM",
        "WHO",
        "HISTORY",
        "PING",
        "EX",
        # 1.2: changing one's password, and moderation (section 11)
        "PASSWD",
        *("KICK", "BAN", "UNBAN", "MUTE", "UNMUTE", "SLOW", "ROLE", "BANS"),
    }
    assert {verb.args for verb in room.verbs.values()} <= set(Args)
    assert all(Phase.ENDED not in verb.phases for verb in room.verbs.values())


@pytest.mark.parametrize("verb", sorted(CHECKS))
def test_verbs_in_and_out_of_their_phase(verb):
    line, phase, answer = CHECKS[verb]
    room = Room(Clock(), None, limits=replace(RoomLimits(), msgRate=0))
    room.startService()
    channel = FakeChannel()
    session = room.connect(channel)
    if phase is Phase.ACTIVE:
        feed(session, line)  # before logging in
        assert channel.sent[-1] == "C ERR STATE log in first"
        feed(session, "C LOGIN solo")
    channel.take()
    feed(session, line)
    assert channel.take()[0] == answer


@pytest.mark.parametrize("verb", ["PM", "DM", "WHO", "EX"])
def test_verbs_without_arguments_refuse_them(verb):
    room = Room(Clock(), None, limits=replace(RoomLimits(), msgRate=0))
    room.startService()
    channel = FakeChannel()
    session = room.connect(channel)
    feed(session, "C LOGIN solo")
    channel.take()
    feed(session, f"C {verb} extra")
    assert channel.take() == [f"C ERR BAD_FRAME {verb} takes no arguments"]


def test_table_refusals_say_why():
    room = Room(Clock(), ManualAccounts(), limits=replace(RoomLimits(), msgRate=0))
    room.startService()
    channel = FakeChannel()
    session = room.connect(channel)
    feed(session, "C PASS early", "C PING two words", "C NOPE", "C nope")
    assert channel.take()[1:] == [
        "C ERR STATE send C LOGIN first",
        "C ERR BAD_FRAME PING takes at most one word",
        "C ERR UNKNOWN unknown command NOPE",
        "C ERR UNKNOWN verbs are upper-case letters",
    ]


def test_the_room_gets_frames_never_bytes():
    """
    Decoding is the pipeline's: the room's handler sees L{Frame}s and the
    L{FrameError}s that stand in for lines that could not be decoded.
    """
    room = Room(Clock(), None, limits=replace(RoomLimits(), msgRate=0))
    room.startService()
    seen = []
    handle = room.handle
    room.handle = lambda session, item: seen.append(item) or handle(session, item)
    session = room.connect(FakeChannel())
    feed(session, "C EX")
    session = room.connect(FakeChannel())
    session.lineReceived(b"\xff")
    assert seen[0] == Frame("C", "EX", "")
    assert isinstance(seen[1], FrameError) and seen[1].code is Err.BAD_FRAME
