"""
The session pipeline every transport shares: the channel a transport offers
(L{IChannel}), the room's entrance every transport depends on to open a
session for it (L{IDoorway}), and the L{Session} that decodes, admits (rate limits, floods),
queues in order and hands frames to the room, pausing the client's reading
while its inbox is long and ending the session once a half-closed client's
frames are all answered.

It owns no rule of the room: the room (L{Owner}) handles each decoded frame,
and the session's L{Lifecycle} is the one record of where the session is.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Attribute, Interface

from chatroom import codec
from chatroom.codec import Err, Frame, FrameError, Reason
from chatroom.lifecycle import Lifecycle, Phase
from chatroom.limits import TokenBucket
from chatroom.settings import FLOOD_LIMIT, INBOX_HIGH


class IChannel(Interface):
    """
    One client's connection, as a transport presents it to the room.
    """

    transportName = Attribute('"TCP" or "UDP": shown to users beside names.')
    peer = Attribute("The client's address and port, for the server console.")
    host = Attribute("The client's address alone, for limits per address.")
    encrypted = Attribute(
        "Whether the session's frames cross the network inside TLS, DTLS or wss (1.2):"
        " the room takes a password in clear only where --plaintext-logins allows."
    )
    loopback = Attribute(
        "Whether the client is on this machine (L{chatroom.plaintext.isLoopback} of its"
        " address): --plaintext-logins loopback takes passwords in clear from it."
    )

    def send(frame: bytes) -> None:
        """
        Deliver one encoded frame (no terminator) to the client.
        """

    def close() -> Deferred[None]:
        """
        Deliver what was sent, then end the connection; fires once it is gone.
        """

    def pauseReading() -> None:
        """
        Stop passing the client's frames to the session for now.
        """

    def resumeReading() -> None:
        """
        Undo L{pauseReading}.
        """


class IDoorway(Interface):
    """
    Where a door (a transport: TCP, UDP, the WebSocket) brings its clients:
    all a door knows of the room.
    """

    def connect(channel: IChannel, greeted: bool = False) -> Session | None:
        """
        A client arrived on C{channel}. Returns its session, or L{None} if
        it was refused (the room then said why and closed the channel).

        @param greeted: the door already sent C{HELLO} (UDP does, to prove
            the client's address before the session counts).
        """


class Owner(Protocol):
    """
    What a session needs of the room it belongs to.
    """

    clock: IReactorTime

    @property
    def log(self) -> Logger: ...

    def handle(self, session: Session, item: Frame | FrameError) -> Deferred | None:
        """
        Act on one frame (or the error standing in its place); a Deferred
        holds back the frames behind it until it fires.
        """

    def failed(self, failure: Failure, session: Session) -> None:
        """
        Handling a frame raised or failed: a bug of ours, never the client's.
        """

    def ended(self, session: Session, previous: Phase, reason: str) -> None:
        """
        C{session} just ended, coming from phase C{previous}.
        """


class Session:
    """
    One client of the room, from its first frame until it leaves.

    The transport calls L{lineReceived}, L{lineTooLong}, L{endOfInput} and
    L{channelClosed}; the room reads L{life}, and names the session once it
    is welcomed (C{name}, C{lookalikeKey}): what every part of the room and
    both rosters need. Logging in and talking keep their own state.
    """

    __slots__ = (
        "_bucket",
        "_floodLimit",
        "_handling",
        "_inboxHigh",
        "_inputEnded",
        "_owner",
        "_paused",
        "channel",
        "inbox",
        "life",
        "lookalikeKey",
        "name",
    )

    def __init__(
        self,
        owner: Owner,
        channel: IChannel,
        bucket: TokenBucket | None = None,
        floodLimit: float = FLOOD_LIMIT,
        inboxHigh: int = INBOX_HIGH,
    ) -> None:
        self._owner = owner
        self.channel = channel
        self.life = Lifecycle()
        # Who the session is, written once by the room when it is welcomed:
        # its name as shown, and that name's look-alike key
        # (L{chatroom.names.key}), by which the roster holds it.
        self.name: str | None = None
        self.lookalikeKey: str | None = None
        # The reading side: each field has one writer, named beside it.
        # Only while frames are queued (a deque is 760 bytes; an idle session
        # has nothing queued): made by _enqueue, dropped by _drain once empty.
        self.inbox: deque[Frame | FrameError] | None = None
        self._bucket = bucket
        self._floodLimit = floodLimit
        self._inboxHigh = inboxHigh
        self._handling: Deferred | None = None  # _drain and _resume
        self._paused = False  # _setPaused
        self._inputEnded = False  # endOfInput: the client sends no more

    @property
    def phase(self) -> Phase:
        return self.life.phase

    @property
    def label(self) -> str:
        """
        How the console names this session: C{alice[TCP]} or its address.
        """
        if self.name is not None and self.life.phase is Phase.ACTIVE:
            return f"{self.name}[{self.channel.transportName}]"
        return f"{self.channel.peer}[{self.channel.transportName}]"

    # From the transport.

    def lineReceived(self, line: bytes) -> None:
        """
        One frame's bytes arrived, terminator already removed.
        """
        item: Frame | FrameError
        try:
            item = codec.decode(line)
        except FrameError as e:
            item = e
        if codec.isExit(item) or self._admit(item.kind):
            self._enqueue(item)

    def lineTooLong(self, head: bytes) -> None:
        """
        A frame over the size limit arrived; C{head} is its start, so that
        an over-long data frame ends the pending operation like any other
        error in reply to a data frame.
        """
        kind = codec.kindOf(head)
        if self._admit(kind):
            reason = f"frames are at most {codec.MAX_CLIENT_FRAME} bytes"
            self._enqueue(FrameError(Err.TOO_LONG, reason, kind))

    def invalid(self, error: FrameError) -> None:
        """
        The transport received something that cannot be a frame (a binary
        WebSocket message): answered with C{error} in its turn, counted
        like any frame.
        """
        if self._admit(error.kind):
            self._enqueue(error)

    def endOfInput(self) -> None:
        """
        The client will send nothing more but still reads (a TCP half-close):
        answer every frame it sent, then end the session (C{CLOSED}).
        """
        self._inputEnded = True
        if self._handling is None:
            self._drain()

    def channelClosed(self, reason: str) -> None:
        """
        The transport lost the client (C{CLOSED}, C{TIMEOUT} or C{DROPPED}).
        """
        self.end(reason)

    # For the room.

    def send(self, frame: bytes) -> None:
        if not self.life.ended:
            self.channel.send(frame)

    def error(self, code: Err, reason: str) -> None:
        if code is not Err.RATE:  # a flood is logged once, when it starts
            self._owner.log.info(
                "{label} error {code}: {reason}", label=self.label, code=code, reason=reason
            )
        self.send(codec.command("ERR", code, reason))

    def end(self, reason: str) -> None:
        """
        End the session, once, however it ended; the room is told.
        """
        if self.life.ended:
            return
        previous = self.life.phase
        self.life.move(Phase.ENDED)
        self.inbox = None
        self._owner.ended(self, previous, reason)

    def close(self, last: bytes, reason: str) -> Deferred[None]:
        """
        Send C{last}, end the session and close its channel.
        """
        self.send(last)
        self.end(reason)
        return self.channel.close()

    # Admission, the inbox and the reading side.

    def _admit(self, kind: str | None) -> bool:
        """
        Whether a frame that just arrived may be handled, by the session's
        rate limit. A refused frame is answered with C{RATE}, in order; a
        session that keeps flooding for C{floodLimit} seconds is dropped.
        """
        bucket = self._bucket
        if bucket is None or self.life.ended:
            return True
        now = self._owner.clock.seconds()
        if bucket.allow(now):
            return True
        flooding = bucket.flooding(now)
        if flooding == 0.0:
            self._owner.log.info("{label} is sending too fast", label=self.label)
        if flooding >= self._floodLimit:
            self._owner.log.info("{label} dropped for flooding", label=self.label)
            self.close(codec.command("ERR", Err.RATE, "still flooding; goodbye"), Reason.DROPPED)
        else:
            reason = f"too fast: at most {bucket.rate:g} frames a second"
            self._enqueue(FrameError(Err.RATE, reason, kind))
        return False

    def _enqueue(self, item: Frame | FrameError) -> None:
        """
        Queue a frame (or an error that stands in its place, such as a
        refusal for flooding) to be handled in its turn.
        """
        if self.life.ended:
            return
        if self.inbox is None:
            self.inbox = deque()
        self.inbox.append(item)
        if len(self.inbox) > self._inboxHigh and not self._paused:
            self._setPaused(True)
        if self._handling is None:
            self._drain()

    def _setPaused(self, paused: bool) -> None:
        self._paused = paused
        if paused:
            self.channel.pauseReading()
        else:
            self.channel.resumeReading()

    def _drain(self) -> None:
        """
        Handle queued frames until one needs to wait (a password check, a
        database look-up), then carry on when it is done.
        """
        while self.inbox and self._handling is None and not self.life.ended:
            item = self.inbox.popleft()
            waiting = self._handle(item)
            if waiting is not None:
                self._handling = waiting
                waiting.addErrback(self._owner.failed, self)
                waiting.addBoth(self._resume)
        if not self.inbox:
            self.inbox = None
        if self._paused and len(self.inbox or ()) <= self._inboxHigh // 2 and not self.life.ended:
            self._setPaused(False)
        if self._inputEnded and not (self.inbox or self._handling or self.life.ended):
            self.end(Reason.CLOSED)
            self.channel.close()

    def _handle(self, item: Frame | FrameError) -> Deferred | None:
        try:
            return self._owner.handle(self, item)
        except Exception:  # noqa: BLE001 - logged and answered by the room
            # A bug of ours, never the client's fault: log it, answer, go on.
            self._owner.failed(Failure(), self)
            return None

    def _resume(self, ignored: object) -> None:
        self._handling = None
        self._drain()
