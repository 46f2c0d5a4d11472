"""
The IRC door's order and back-pressure without I/O (a StringTransport, a
task.Clock): while the room has not answered a line (a password being
hashed), the lines behind it wait, reading pauses once many wait, and all
are answered in order once the answer comes.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom import codec
from chatroom.codec import Frame, FrameError
from chatroom.irc import IRCFactory
from chatroom.irc.door import LINES_HIGH, IRCConnection
from chatroom.lifecycle import Phase
from chatroom.pipeline import IChannel, IDoorway, Owner, Session


@implementer(IDoorway)
class SlowRoom:
    """
    A room whose login waits until the test says (as a password hash does);
    it answers C{PING} and C{WHO} at once.
    """

    log = Logger()

    def __init__(self, clock: Clock) -> None:
        self.clock: IReactorTime = clock
        self.login: Deferred[None] | None = None
        self.handled: list[str] = []

    def connect(self, channel: IChannel, greeted: bool = False) -> Session:
        session = Session(cast(Owner, self), channel)
        session.send(codec.hello("IRC"))
        return session

    def handle(self, session: Session, item: Frame | FrameError) -> Deferred[None] | None:
        assert isinstance(item, Frame)
        self.handled.append(item.verb)
        if item.verb == "PING":
            session.send(codec.command("PONG"))
        elif item.verb == "WHO":
            session.send(codec.command("USERS", "nina:IRC"))
        elif item.verb == "LOGIN":
            self.login = Deferred()

            def welcome(ignored: None) -> None:
                session.life.move(Phase.ACTIVE)
                session.send(codec.command("WELCOME", "nina", "IRC", "Welcome nina."))

            return self.login.addCallback(welcome)
        return None

    def failed(self, failure: Failure, session: Session) -> None:
        raise AssertionError(failure)

    def ended(self, session: Session, previous: Phase, reason: str) -> None:
        pass


def test_lines_wait_for_the_login_and_reading_pauses() -> None:
    clock = Clock()
    room = SlowRoom(clock)
    factory = IRCFactory(room, clock, serverName="irc.test")
    connection = factory.buildProtocol(None)
    assert isinstance(connection, IRCConnection)
    transport = StringTransport()
    connection.makeConnection(transport)
    pings = [f"PING :n{i}" for i in range(LINES_HIGH + 10)]
    data = "\r\n".join(["NICK nina", "USER n 0 * :Nina", *pings, ""]).encode()
    connection.dataReceived(data)
    clock.advance(1)
    assert room.login is not None
    assert b"PONG" not in transport.value()
    assert transport.producerState == "paused"
    room.login.callback(None)
    clock.advance(1)
    out = transport.value().decode().split("\r\n")
    pongs = [line for line in out if " PONG " in line]
    assert [line.rsplit(":", 1)[1] for line in pongs] == [f"n{i}" for i in range(len(pings))]
    first = next(i for i, line in enumerate(out) if " 001 " in line)
    assert first < out.index(pongs[0])
    assert transport.producerState == "producing"
