"""
The output half of every stream door (TCP and TLS, the WebSocket; IRC
next): L{StreamChannel}, the L{IChannel} a connection gives its session.

A door keeps only what is its own: how it parses input (lines, WebSocket
messages), what a frame is on its wire (the L{Flusher}'s C{encode}), and how
an orderly close begins. The rest is here, written once: frames queued until
the next flush and written with one call per connection (straight to the
socket when L{chatroom.output} may), the limit on output waiting for a
client that stopped reading, close with a grace period, and telling the
session how the connection ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IPushProducer, IReactorTime, ISSLTransport
from zope.interface import implementer

from chatroom.codec import Reason
from chatroom.output import Flusher, canWriteDirectly, writeNow
from chatroom.pipeline import IChannel, IDoorway, Session
from chatroom.plaintext import isLoopback
from chatroom.settings import SENDQ
from chatroom.sockets import IConnection, describe

#: How long a closing connection may take to flush before it is cut.
CLOSE_GRACE = 2.0


@implementer(IPushProducer)
class SendQueue:
    """
    Notices a client that stopped reading, through the producer API.

    The transport pauses its producer when its own buffer is full (64 KiB);
    what is written after that waits for the client. Once more than
    C{limit} bytes wait, C{overflow} is called, once.
    """

    __slots__ = ("blocked", "limit", "overflow", "overflowed", "waiting")

    def __init__(self, limit: int, overflow: Callable[[], None]) -> None:
        self.limit = limit
        self.overflow = overflow
        self.blocked = False
        self.waiting = 0
        self.overflowed = False

    def pauseProducing(self) -> None:
        self.blocked = True

    def resumeProducing(self) -> None:
        self.blocked = False
        self.waiting = 0

    def stopProducing(self) -> None:
        pass

    def wrote(self, size: int) -> None:
        if self.blocked and self.limit:
            self.waiting += size
            if self.waiting > self.limit and not self.overflowed:
                self.overflowed = True
                self.overflow()


class StreamDoor(Protocol):
    """
    What a L{StreamChannel} needs of its door, the protocol reading the
    connection: reading is the door's, since each parser holds back what
    one read brought in its own way (a line buffer, whole messages).
    """

    def beginClose(self) -> None:
        """
        Start an orderly close: TCP's FIN, the WebSocket closing handshake.
        """

    def pauseReading(self) -> None:
        """
        Stop reading the connection and passing its frames to the session.
        """

    def resumeReading(self) -> None:
        """
        Pass on the frames held back, then read the connection again.
        """


@implementer(IChannel)
class StreamChannel:
    """
    One stream connection as its session sees it, from the door's
    C{connectionMade} on.

    @ivar session: the connection's session once L{open} made it; L{None}
        before, if the room refused it, and once it was told how the
        connection ended.
    """

    __slots__ = (
        "_clock",
        "_closeWaiters",
        "_cut",
        "_direct",
        "_door",
        "_flusher",
        "_gone",
        "_isOpen",
        "_pending",
        "host",
        "sendq",
        "session",
        "transport",
        "transportName",
    )

    def __init__(
        self,
        door: StreamDoor,
        transport: IConnection,
        transportName: str,
        flusher: Flusher,
        clock: IReactorTime,
        sendq: int = SENDQ,
        isOpen: Callable[[], bool] | None = None,
    ) -> None:
        """
        @param transportName: the name users see beside names (C{"TCP"}).
        @param flusher: the flusher of every connection of the door's kind;
            its C{encode} is what a frame is on this door's wire.
        @param sendq: the bytes that may wait for a client that stopped
            reading (see L{SendQueue}); 0 for no limit.
        @param isOpen: whether the door's protocol may still carry frames
            (a WebSocket may not once its closing handshake began); frames
            flushed while it may not are dropped.
        """
        self._door = door
        self.transport = transport
        self.transportName = transportName
        self._flusher = flusher
        self._clock = clock
        self._isOpen = isOpen
        self._pending: list[bytes] | None = None  # frames waiting for the next flush
        self._direct = canWriteDirectly(transport)  # may the flush write to the socket itself
        self._gone = False
        self._cut: IDelayedCall | None = None
        self._closeWaiters: list[Deferred[None]] | None = None
        self.session: Session | None = None
        address = transport.getPeer()
        self.host = getattr(address, "host", None) or describe(address)
        self.sendq = SendQueue(sendq, self._overflow)
        transport.registerProducer(self.sendq, True)

    @property
    def gone(self) -> bool:
        """
        Whether the connection is lost (the door called L{lost}).
        """
        return self._gone

    @property
    def peer(self) -> str:
        """
        C{host:port} for the console: made when a log line needs it rather
        than kept by each of thousands of connections.
        """
        return describe(self.transport.getPeer())

    @property
    def encrypted(self) -> bool:
        """
        Whether the connection is TLS (C{ssl:} endpoints: TCP, https's wss):
        asked at C{C LOGIN}, not kept by each connection.
        """
        return ISSLTransport.providedBy(self.transport)

    @property
    def loopback(self) -> bool:
        return isLoopback(self.host)

    def open(self, doorway: IDoorway) -> None:
        """
        Join the room behind C{doorway}, which greets the client.
        """
        self.session = doorway.connect(self)

    # IChannel

    def send(self, frame: bytes) -> None:
        line = self._flusher.encoded(frame)
        if self._pending is None:
            self._pending = [line]
            self._flusher.later(self)
        else:
            self._pending.append(line)

    def flush(self) -> None:
        """
        Write what was sent since the last flush, with one call.
        """
        pending, self._pending = self._pending, None
        if pending is None or self._gone or (self._isOpen is not None and not self._isOpen()):
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        if self._direct:
            writeNow(self.transport, data)  # type: ignore[arg-type]
        else:
            self.transport.write(data)
        if self.sendq.blocked:  # only a client that stopped reading is counted
            self.sendq.wrote(len(data))

    def close(self) -> Deferred[None]:
        self.flush()
        if self._gone:
            return succeed(None)
        if self._cut is None:
            # A producer left registered holds a TLS connection open (no
            # close_notify) until it is cut; a plain one may wait the same.
            self.transport.unregisterProducer()
            self._door.beginClose()
            # A client that stopped reading would keep the socket forever.
            self._cut = self._clock.callLater(CLOSE_GRACE, self.transport.abortConnection)
        waiter: Deferred[None] = Deferred()
        if self._closeWaiters is None:
            self._closeWaiters = []
        self._closeWaiters.append(waiter)
        return waiter

    def pauseReading(self) -> None:
        self._door.pauseReading()

    def resumeReading(self) -> None:
        self._door.resumeReading()

    # From the door.

    def lost(self) -> None:
        """
        The connection is gone: the session ends (C{CLOSED}) unless it was
        dropped already, and whoever waits for the close hears of it.
        """
        self._gone = True
        session = self.session
        if session is not None and not self.sendq.overflowed:
            self.session = None
            session.channelClosed(Reason.CLOSED)
        if self._cut is not None and self._cut.active():
            self._cut.cancel()
        waiters, self._closeWaiters = self._closeWaiters or [], None
        for waiter in waiters:
            waiter.callback(None)

    # The send queue's.

    def _overflow(self) -> None:
        """
        The client stopped reading: drop it rather than buffer without end
        (everyone else keeps being served meanwhile).

        This happens inside L{flush}, while the turn's output is written to
        every connection, so the session hears of it on the next turn of
        the reactor: a channel never re-enters the room while writing.
        """
        self.transport.abortConnection()
        self._clock.callLater(0, self._dropped)

    def _dropped(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.channelClosed(Reason.DROPPED)
