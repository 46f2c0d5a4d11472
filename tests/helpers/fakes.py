"""
Stand-ins for what surrounds the room, for tests that drive it without I/O:
a channel that records what it is sent, and accounts whose answers wait
until the test releases them.
"""

from __future__ import annotations

from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred
from zope.interface import implementer

from chatroom.pipeline import IChannel
from chatroom.plaintext import isLoopback


@implementer(IChannel)
class FakeChannel:
    transportName = "TCP"

    def __init__(self, peer: str = "10.0.0.1:1", encrypted: bool = False) -> None:
        self.peer = peer
        self.host = peer.rpartition(":")[0]
        self.encrypted = encrypted
        self.loopback = isLoopback(self.host)
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

    def setPassword(self, name: str, password: str) -> Deferred[None]:
        self.registered[name.lower()] = password
        return self._later(None)

    def register(self, name: str, password: str) -> Deferred[str]:
        self.registered[name.lower()] = password
        return self._later(name)


def feed(session, *lines: str) -> None:
    for line in lines:
        session.lineReceived(line.encode("utf-8"))
