"""
The IRC door: one L{IRCConnection} per client, made by an L{IRCFactory}.

It is a third stream door on the session pipeline: output goes through
L{chatroom.stream}'s L{StreamChannel} as TCP's and the WebSocket's does,
the session is L{chatroom.pipeline}'s, and every rule is the room's,
reached only through L{IDoorway}. What is IRC's own is a parser
(L{chatroom.irc.wire}, L{chatroom.irc.registration},
L{chatroom.irc.commands}) that turns each IRC line into the room's frames,
and a mapping (L{chatroom.irc.mapping}) that turns the room's frames into
IRC lines; this module holds them together.

Lines are handled strictly in order: while a line waits for the room's
answer (a password being hashed, a database look-up), the lines behind it
wait in L{IRCConnection.lines}, and reading the socket pauses once many
wait.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IHalfCloseableProtocol,
    ITCPTransport,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom import codec
from chatroom.codec import Frame
from chatroom.irc import wire
from chatroom.irc.directory import Entry
from chatroom.irc.labels import labeled
from chatroom.lifecycle import IllegalMove
from chatroom.pipeline import IChannel, Session
from chatroom.sockets import IConnection
from chatroom.stream import StreamChannel

if TYPE_CHECKING:
    from chatroom.irc.factory import IRCFactory

#: What a line waiting for the room is given: each frame that answers it,
#: until it returns True (the answer is complete).
Expect = Callable[[Frame], bool]

#: Lines that may wait before reading the socket pauses.
LINES_HIGH = 64

#: Room frames that answer a client's frame (the rest come on their own).
REPLIES = frozenset(
    {"ACK", "OK", "ERR", "USERS", "PASSWORD", "WELCOME", "PONG", "BANS", "BYE", "HISTORY"}
)


class Stage(Enum):
    """
    Where an IRC connection is, as IRC sees it (the room's session has its
    own L{chatroom.lifecycle}).
    """

    REGISTERING = "REGISTERING"  # NICK, USER, CAP, PASS, AUTHENTICATE
    WELCOMING = "WELCOMING"  # 001 sent, LUSERS and MOTD under way: the room's frames wait
    REGISTERED = "REGISTERED"  # every command
    CLOSING = "CLOSING"  # ERROR sent or the connection lost


#: The moves a connection may make; anything else is a bug of ours.
MOVES: dict[Stage, frozenset[Stage]] = {
    Stage.REGISTERING: frozenset({Stage.WELCOMING, Stage.CLOSING}),
    Stage.WELCOMING: frozenset({Stage.REGISTERED, Stage.CLOSING}),
    Stage.REGISTERED: frozenset({Stage.CLOSING}),
    Stage.CLOSING: frozenset({Stage.CLOSING}),
}


def asLine(line: bytes) -> bytes:
    return line + b"\r\n"


@implementer(IChannel)
class IRCChannel:
    """
    The channel the session sees: the room's frames go through the mapping
    to the connection's lines.
    """

    transportName = "IRC"

    def __init__(self, connection: IRCConnection) -> None:
        self._connection = connection

    @property
    def peer(self) -> str:
        return self._connection.stream.peer

    @property
    def host(self) -> str:
        return self._connection.stream.host

    @property
    def encrypted(self) -> bool:
        """
        Whether the IRC connection is TLS (C{--irc ssl:...}), for
        C{--plaintext-logins}: the stream underneath knows.
        """
        return self._connection.stream.encrypted

    @property
    def loopback(self) -> bool:
        return self._connection.stream.loopback

    def send(self, frame: bytes) -> None:
        self._connection.fromRoom(frame)

    def close(self) -> Deferred[None]:
        self._connection.move(Stage.CLOSING)
        return self._connection.stream.close()

    def pauseReading(self) -> None:
        self._connection.pauseReading()

    def resumeReading(self) -> None:
        self._connection.resumeReading()


@implementer(IHalfCloseableProtocol)
class IRCConnection(Protocol):
    """
    One IRC client: its lines in order, its registration, its view of the
    room.
    """

    factory: IRCFactory
    transport: IConnection
    stream: StreamChannel
    session: Session | None = None

    def __init__(self) -> None:
        self.stage = Stage.REGISTERING
        self.lines: deque[bytes] = deque()
        self.awaiting: Expect | None = None
        self.held: list[Frame] = []  # room frames that came before 001
        self.caps: set[str] = set()
        self.negotiating = False  # CAP LS or REQ seen, CAP END not yet
        self.nick: str | None = None
        self.user: str | None = None
        self.realname = ""
        self.password: str | None = None
        self.account: str | None = None  # the room's name once logged in
        self.sasl: list[str] | None = None  # SASL PLAIN chunks, while under way
        self.joined = False
        self.entry: Entry | None = None
        self.kicked: set[str] = set()  # names whose QUIT a KICK already showed
        self.label: str | None = None  # labeled-response of the line in hand
        self._running = False
        self._sent = 0  # frames sent to the room
        self._collected: list[bytes] | None = None  # the answer to a labeled line
        self._batches = 0
        self.historyBatches = 0
        self._paused = False  # by the session or by our own queue
        self._inputEnded = False  # the client's FIN came
        self._ending = False  # and every line before it was answered
        self._buffer = wire.LineBuffer(self._lineIn, self._lineTooLong)

    # The connection.

    def connectionMade(self) -> None:
        if ITCPTransport.providedBy(self.transport):
            self.transport.setTcpNoDelay(True)
        factory = self.factory
        self.stream = StreamChannel(
            self, self.transport, "IRC", factory.flusher, factory.clock, factory.sendq
        )
        self.host = self.stream.host
        self.session = factory.doorway.connect(IRCChannel(self))
        self.stream.session = self.session

    def dataReceived(self, data: bytes) -> None:
        self._buffer.feed(data)

    def move(self, to: Stage) -> None:
        """
        Go to stage C{to}, as L{MOVES} allows.

        @raise IllegalMove: for any other move.
        """
        if to not in MOVES[self.stage]:
            raise IllegalMove(f"{self.stage.name} -> {to.name}")
        self.stage = to

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.move(Stage.CLOSING)
        self.lines.clear()
        self.stream.lost()
        entry = self.entry
        if entry is not None:
            # After the room has told everyone (QUIT shows the message).
            self.factory.clock.callLater(0, self.factory.directory.remove, entry)

    def readConnectionLost(self) -> None:
        """
        The client sent its FIN (a script piped into nc, say) but may still
        read: every line it sent is handled and answered, then it ends.
        """
        self._inputEnded = True
        self._buffer.rest()
        self.run()

    def writeConnectionLost(self) -> None:
        pass

    # StreamDoor

    def beginClose(self) -> None:
        self.transport.loseConnection()

    def pauseReading(self) -> None:
        self._paused = True
        self.transport.pauseProducing()

    def resumeReading(self) -> None:
        self._paused = False
        if not self.stream.gone and not self._inputEnded:  # past the FIN it would come again
            self.transport.resumeProducing()
        self.run()

    # Lines in, in order.

    def _lineIn(self, line: bytes) -> None:
        if self.stage is Stage.CLOSING:
            return
        self.lines.append(line)
        if len(self.lines) > LINES_HIGH and not self._paused:
            self.pauseReading()
        self.run()

    def _lineTooLong(self) -> None:
        self.lines.append(b"")  # stands for the long line, in its turn
        self.run()

    def run(self) -> None:
        """
        Handle waiting lines until one waits for the room.
        """
        if self._running:
            return
        self._running = True
        try:
            while self.lines and self.awaiting is None and self.stage is not Stage.CLOSING:
                self._handle(self.lines.popleft())
                if self.awaiting is None:
                    self._answered()
        finally:
            self._running = False
        if self._paused and len(self.lines) <= LINES_HIGH // 2 and self.stage is not Stage.CLOSING:
            self.resumeReading()
        if self._inputEnded and not self._ending and not self.lines and self.awaiting is None:
            self._ending = True
            if self.session is not None and self.stage is not Stage.CLOSING:
                self.session.endOfInput()  # the session ends (CLOSED) and closes us
            else:
                self.transport.loseConnection()

    def _handle(self, raw: bytes) -> None:
        from chatroom.irc import commands

        if not raw:
            self.numeric("417", "Input line was too long")
            return
        try:
            line = wire.parse(raw)
        except wire.BadLine as e:
            failure = [wire.commandOf(raw), "INVALID_UTF8", str(e)]
            self.send(wire.format("FAIL", failure, self.factory.serverName))
            return
        if line is None:
            return
        self.label = (line.tags or {}).get("label") if "labeled-response" in self.caps else None
        if self.label is not None:
            self._collected = []
        try:
            commands.dispatch(self, line)
        except Exception:  # noqa: BLE001 - a bug of ours: logged, answered, the lines go on
            self.factory.log.failure("handling an IRC line from {peer}", peer=self.stream.peer)
            self.awaiting = None
            self.numeric("400", line.command, "Internal error: the line was not handled")

    # To the room and back.

    def toRoom(self, frame: bytes, expect: Expect) -> None:
        """
        Send one frame to the session; C{expect} gets its answer.
        """
        if self.session is None or self.stage is Stage.CLOSING:
            return
        self.awaiting = expect
        self._sent += 1
        self.session.lineReceived(frame)

    def fromRoom(self, raw: bytes) -> None:
        from chatroom.irc import mapping

        frame = self.factory.decoded(raw)
        if frame is None:
            return
        expect = self.awaiting
        if expect is not None and (
            (frame.kind == codec.COMMAND and frame.verb in REPLIES)
            or (frame.kind == codec.DATA and frame.rest.startswith(("BAN ", "HISTORY ")))
        ):
            sent = self._sent
            if expect(frame):
                if self._sent == sent:  # no new frame awaits its own answer
                    self.awaiting = None
                    self._answered()
                self.run()
            if frame.verb != "BYE":
                return
        if self.stage in (Stage.REGISTERING, Stage.WELCOMING) and frame.verb not in ("ERR", "BYE"):
            self.held.append(frame)
            return
        mapping.translate(self, frame)

    # Lines out.

    def send(self, line: bytes) -> None:
        """
        A line that answers the line in hand (kept back while that line
        carries a C{label}, see L{_answered}).
        """
        if self._collected is not None:
            self._collected.append(line)
        else:
            self.push(line)

    def push(self, line: bytes) -> None:
        """
        A line that comes on its own (someone's message, a join). Every
        line leaves here, made to fit an IRC line (L{wire.fit}).
        """
        if not self.stream.gone:
            self.stream.send(wire.fit(line))

    def peerLine(self, line: bytes) -> None:
        if self.stage is Stage.REGISTERED and self.joined:
            self.push(line)

    def _answered(self) -> None:
        """
        The line in hand is fully answered: with IRCv3 labeled-response, its
        answer goes labeled: C{ACK} for none, the label on a single line, a
        C{labeled-response} batch around several (with C{batch}).
        """
        lines, self._collected = self._collected, None
        label, self.label = self.label, None
        if lines is None or label is None:
            return
        batch = None
        if len(lines) > 1 and "batch" in self.caps:
            self._batches += 1
            batch = f"L{self._batches}"
        for line in labeled(lines, label, self.factory.serverName, batch):
            self.push(line)

    @property
    def me(self) -> str:
        return self.nick or "*"

    @property
    def mask(self) -> str:
        return f"{self.me}!{self.user or self.me}@{self.host}"

    def numeric(self, code: str, *params: str) -> None:
        # The last word of a numeric is trailing, as most servers send it
        # (004 and 005 list tokens: only their texts are).
        trailing = len(params) > 0 and code not in ("004", "005")
        self.send(wire.format(code, [self.me, *params], self.factory.serverName, None, trailing))

    def fail(self, why: str) -> None:
        """
        End the connection with IRC's C{ERROR}, then the session.
        """
        if self.stage is Stage.CLOSING:
            return
        self._answered()
        self.push(wire.format("ERROR", [f"Closing Link: {self.host} ({why})"]))
        self.stage = Stage.CLOSING
        self.stream.close()
