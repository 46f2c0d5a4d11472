"""
The service's state machine, with a fake clock, fake channels and accounts
whose answers the test releases by hand.
"""

from __future__ import annotations

import pytest
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from zope.interface import implementer
from zope.interface.verify import verifyObject

from chatroom.service import INBOX_HIGH, ChatService, IChannel


@implementer(IChannel)
class FakeChannel:
    transportName = "TCP"

    def __init__(self, peer: str = "10.0.0.1:1") -> None:
        self.peer = peer
        self.host = peer.rpartition(":")[0]
        self.sent: list[str] = []
        self.closed = False
        self.paused = False
        self.whenClosed: Deferred[None] = Deferred()

    def send(self, frame: bytes) -> None:
        assert not self.closed, "sent after close"
        self.sent.append(frame.decode("utf-8"))

    def close(self) -> Deferred[None]:
        self.closed = True
        return self.whenClosed

    def pauseReading(self) -> None:
        self.paused = True

    def resumeReading(self) -> None:
        self.paused = False

    def take(self) -> list[str]:
        sent, self.sent = self.sent, []
        return sent


class ManualAccounts:
    """
    Accounts whose every answer waits until the test releases it.
    """

    def __init__(self) -> None:
        self.registered = {"alice": "pw"}
        self.waiting: list[tuple[Deferred, object]] = []
        self.store = self

    def open(self) -> Deferred[None]:
        return succeed(None)

    def close(self) -> Deferred[None]:
        return succeed(None)

    def _later(self, outcome: object) -> Deferred:
        d: Deferred = Deferred()
        self.waiting.append((d, outcome))
        return d

    def release(self) -> None:
        """
        Answer the questions asked so far (not those the answers lead to).
        """
        waiting, self.waiting = self.waiting, []
        for d, outcome in waiting:
            if isinstance(outcome, Exception):
                d.errback(outcome)
            else:
                d.callback(outcome)

    def isRegistered(self, name: str) -> Deferred[bool]:
        return self._later(name.lower() in self.registered)

    def login(self, name: str, password: str) -> Deferred[str]:
        ok = self.registered.get(name.lower()) == password
        return self._later(name if ok else UnauthorizedLogin())

    def register(self, name: str, password: str) -> Deferred[str]:
        self.registered[name.lower()] = password
        return self._later(name)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts() -> ManualAccounts:
    return ManualAccounts()


@pytest.fixture
def service(clock, accounts) -> ChatService:
    service = ChatService(clock, accounts, maxClients=3, msgRate=0)
    service.startService()
    return service


def feed(session, *lines: str) -> None:
    for line in lines:
        session.lineReceived(line.encode("utf-8"))


def test_channel_interface():
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
    assert "bob" not in service.reserved
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
    assert service.online == {} and service.reserved == {} and service.sessions == set()


def test_a_failing_store_is_an_error_not_a_lost_session(service, accounts):
    channel = FakeChannel()
    session = service.connect(channel)
    accounts.isRegistered = lambda name: accounts._later(OSError("disk on fire"))
    feed(session, "C LOGIN alice", "C PING still-here")
    accounts.release()
    sent = channel.take()
    assert sent[1].startswith("C ERR STATE ") and sent[2] == "C PONG still-here"
    assert service.reserved == {}


def test_three_wrong_passwords_close_the_session(service, accounts):
    channel = FakeChannel()
    session = service.connect(channel)
    for attempt in range(3):
        feed(session, "C LOGIN alice", f"C PASS nope{attempt}")
        accounts.release()
        accounts.release()
    assert channel.closed
    assert [f.split(" ")[1] for f in channel.sent[1:]] == ["PASSWORD", "ERR"] * 3
    assert service.sessions == set() and service.reserved == {}


def test_direct_message_to_oneself(service, accounts):
    service.accounts = None  # username-only room
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


def test_stop_says_bye_and_waits_for_channels(service, accounts):
    service.accounts = None
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
