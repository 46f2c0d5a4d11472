"""
The room and its session pipeline, with a fake clock, fake channels and
accounts whose answers the test releases by hand.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers.fakes import FakeChannel, ManualAccounts, feed
from twisted.internet.task import Clock
from zope.interface.verify import verifyObject

from chatroom.pipeline import INBOX_HIGH, IChannel
from chatroom.room import Room
from chatroom.settings import RoomLimits


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts() -> ManualAccounts:
    return ManualAccounts()


@pytest.fixture
def service(clock, accounts) -> Room:
    service = Room(clock, accounts, limits=replace(RoomLimits(), maxClients=3, msgRate=0))
    service.startService()
    return service


def test_the_fake_channel_keeps_to_the_interface():
    """
    The room's tests speak to L{FakeChannel}; it must not drift from what
    the real channels offer (each transport's tests check its own channel:
    tcp/, udp/, web/).
    """
    verifyObject(IChannel, FakeChannel())


def test_frames_wait_behind_a_pending_login(service, accounts):
    channel = FakeChannel()
    session = service.connect(channel)
    feed(session, "C LOGIN alice", "C PASS pw", "C PING one", "C WHO")
    assert channel.take() == ["C HELLO chatroom 1 TCP"]  # still asking the store
    accounts.release()
    assert channel.take() == ["C PASSWORD EXISTING"]  # now checking the password
    accounts.release()
    assert channel.take() == [
        "C WELCOME alice TCP Welcome alice, you are connected via TCP.",
        "C PONG one",
        "C USERS alice:TCP",
    ]


def test_login_deadline(service, clock, accounts):
    slow, quick = FakeChannel("slow:1"), FakeChannel("quick:1")
    slowSession = service.connect(slow)
    clock.advance(10)
    quickSession = service.connect(quick)
    feed(slowSession, "C LOGIN bob")
    accounts.release()
    clock.advance(19.5)
    assert not slow.closed
    clock.advance(1)
    assert slow.sent[-1] == "C ERR STATE login timed out" and slow.closed
    assert "bob" not in service.roster.reserved
    feed(quickSession, "C LOGIN alice", "C PASS pw")
    accounts.release()
    accounts.release()
    clock.advance(100)
    assert not quick.closed  # logged in: no deadline any more


def test_inbox_pauses_the_client_until_it_drains(service, accounts):
    channel = FakeChannel()
    session = service.connect(channel)
    feed(session, "C LOGIN alice")  # waits for the store
    feed(session, *["C PING"] * (INBOX_HIGH + 1))
    assert channel.paused
    accounts.release()
    assert not channel.paused
    assert channel.take()[1:] == ["C PASSWORD EXISTING"] + ["C PONG"] * (INBOX_HIGH + 1)


def test_leaving_during_a_login_frees_the_name_and_ignores_the_answer(service, accounts):
    channel = FakeChannel()
    session = service.connect(channel)
    feed(session, "C LOGIN alice", "C PASS pw")
    accounts.release()
    session.channelClosed("CLOSED")
    accounts.release()  # the password check finishes after the client left
    assert channel.take() == ["C HELLO chatroom 1 TCP", "C PASSWORD EXISTING"]
    assert (
        service.roster.online == {} and service.roster.reserved == {} and service.sessions == set()
    )
    assert service.roster.shown == {}


def test_a_failing_store_is_an_error_not_a_lost_session(service, accounts):
    channel = FakeChannel()
    session = service.connect(channel)
    accounts.isRegistered = lambda name: accounts._later(OSError("disk on fire"))
    feed(session, "C LOGIN alice", "C PING still-here")
    accounts.release()
    sent = channel.take()
    assert sent[1].startswith("C ERR STATE ") and sent[2] == "C PONG still-here"
    assert service.roster.reserved == {} and service.roster.shown == {}


def test_three_wrong_passwords_close_the_session(service, accounts):
    channel = FakeChannel()
    session = service.connect(channel)
    for attempt in range(3):
        feed(session, "C LOGIN alice", f"C PASS nope{attempt}")
        accounts.release()
        accounts.release()
    assert channel.closed
    assert [f.split(" ")[1] for f in channel.sent[1:]] == ["PASSWORD", "ERR"] * 3
    assert (
        service.sessions == set() and service.roster.reserved == {} and service.roster.shown == {}
    )


def test_direct_message_to_oneself(clock):
    service = limited(clock)  # username-only room
    channel = FakeChannel()
    session = service.connect(channel)
    feed(session, "C LOGIN solo", "C DM", "D SOLO note to self")
    assert channel.take()[1:] == [
        "C WELCOME solo TCP Welcome solo, you are connected via TCP.",
        "C USERS solo:TCP",
        "D DM solo TCP note to self",
        "C OK DM solo",
    ]


def test_max_clients(service):
    channels = [FakeChannel() for _ in range(4)]
    sessions = [service.connect(c) for c in channels]
    assert sessions[3] is None and channels[3].closed
    assert channels[3].sent == ["C ERR FULL the server is full, try later"]
    sessions[0].channelClosed("CLOSED")
    assert service.connect(FakeChannel()) is not None


def test_stop_says_bye_and_waits_for_channels(clock):
    service = limited(clock)
    a, b = FakeChannel(), FakeChannel()
    feed(service.connect(a), "C LOGIN a")
    feed(service.connect(b), "C LOGIN b")
    stopped = service.stopService()
    assert a.sent[-1] == "C BYE SHUTDOWN" and b.sent[-1] == "C BYE SHUTDOWN"
    assert "C LEAVE" not in " ".join(a.sent + b.sent)
    assert not stopped.called
    a.whenClosed.callback(None)
    b.whenClosed.callback(None)
    assert stopped.called
    assert service.connect(FakeChannel()) is None  # stopped: nobody new


def limited(clock, **limits) -> Room:
    # Username-only: these tests are about limits.
    service = Room(clock, None, limits=replace(RoomLimits(), **limits))
    service.startService()
    return service


def test_frames_over_the_rate_get_err_rate_in_order(clock):
    service = limited(clock, msgRate=20, msgBurst=40)
    channel = FakeChannel()
    session = service.connect(channel)
    channel.take()
    feed(session, *[f"C PING {i}" for i in range(50)], "C EX")
    sent = channel.take()
    assert sent[:40] == [f"C PONG {i}" for i in range(40)]
    assert all(f.startswith("C ERR RATE ") for f in sent[40:50])
    assert sent[50] == "C BYE EXIT"  # EX is never refused


def test_rate_refusal_of_a_data_frame_ends_the_pending_operation(clock):
    service = limited(clock, msgRate=1, msgBurst=2)
    channel = FakeChannel()
    session = service.connect(channel)
    feed(session, "C LOGIN ann", "C PM", "D refused", "D later")
    assert channel.take()[1:] == [
        "C WELCOME ann TCP Welcome ann, you are connected via TCP.",
        "C ACK PM",
        "C ERR RATE too fast: at most 1 frames a second",
        "C ERR RATE too fast: at most 1 frames a second",
    ]
    clock.advance(1)
    feed(session, "D nothing pending any more")
    assert channel.take() == ["C ERR STATE send C PM or C DM first"]


def test_a_ten_second_flood_is_dropped(clock):
    service = limited(clock, msgRate=20, msgBurst=40)
    flooder, watcher = FakeChannel("10.0.0.1:1"), FakeChannel("10.0.0.2:1")
    flood = service.connect(flooder)
    feed(flood, "C LOGIN flood")
    feed(service.connect(watcher), "C LOGIN watch")
    elapsed = 0.0
    while not flooder.closed and elapsed < 20:
        feed(flood, *["C PING"] * 30)  # 300 frames a second against 20
        clock.advance(0.1)
        elapsed += 0.1
    assert 10 <= elapsed < 10.5
    assert flooder.sent[-1] == "C ERR RATE still flooding; goodbye"
    assert watcher.sent[-1] == "C LEAVE flood TCP DROPPED"
    assert [s.name for s in service.roster.online.values()] == ["watch"]


def test_a_pause_ends_a_flood(clock):
    service = limited(clock, msgRate=20, msgBurst=40)
    channel = FakeChannel()
    session = service.connect(channel)
    for _ in range(3):  # 6 s of flooding, a 1.5 s pause, and again
        for _ in range(60):
            feed(session, *["C PING"] * 30)
            clock.advance(0.1)
        clock.advance(1.5)
    assert not channel.closed


def test_sessions_per_address(clock):
    service = limited(clock, maxPerHost=2)
    a = [service.connect(FakeChannel(f"10.0.0.1:{port}")) for port in range(3)]
    assert a[0] and a[1] and a[2] is None
    assert service.connect(FakeChannel("10.0.0.2:1")) is not None
    a[0].channelClosed("CLOSED")
    assert service.connect(FakeChannel("10.0.0.1:9")) is not None


def test_wrong_passwords_per_address(service, accounts, clock):
    def wrongTwice(peer: str) -> FakeChannel:
        channel = FakeChannel(peer)
        session = service.connect(channel)
        for _ in range(2):
            feed(session, "C LOGIN alice", "C PASS nope")
            accounts.release()
            accounts.release()
        session.channelClosed("CLOSED")
        return channel

    service.maxClients = 100
    for port in range(10):  # 20 wrong passwords from one address
        wrongTwice(f"10.0.0.1:{port}")
    blocked = FakeChannel("10.0.0.1:99")
    feed(service.connect(blocked), "C LOGIN alice")
    assert blocked.sent[-1].startswith("C ERR RATE ")
    elsewhere = FakeChannel("10.0.0.2:1")
    feed(service.connect(elsewhere), "C LOGIN alice")
    accounts.release()
    assert elsewhere.sent[-1] == "C PASSWORD EXISTING"
    clock.advance(61)
    later = FakeChannel("10.0.0.1:100")
    feed(service.connect(later), "C LOGIN alice")
    accounts.release()
    assert later.sent[-1] == "C PASSWORD EXISTING"


def test_input_that_ends_while_reading_is_paused_still_ends_the_session(service, accounts):
    """
    The client pipelined more than the inbox holds behind a pending login,
    then half-closed: once every frame is answered the session ends, even
    with a transport that does not report the end of input again when its
    reading resumes.
    """
    channel = FakeChannel()
    session = service.connect(channel)
    feed(session, "C LOGIN alice", *(f"C PING {n}" for n in range(INBOX_HIGH + 5)))
    assert channel.paused
    session.endOfInput()
    accounts.release()  # the look-up: everything queued is answered at once
    sent = channel.take()
    assert sent[1] == "C PASSWORD EXISTING"
    assert sent[2:] == [f"C PONG {n}" for n in range(INBOX_HIGH + 5)]
    assert channel.closed and service.sessions == set()
