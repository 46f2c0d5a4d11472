"""
The WebSocket transport: one frame per text message, no terminator.

Like L{chatroom.tcp}, this only turns messages into frames and frames into
messages: it is the WebSocket adapter of L{chatroom.pipeline}, and every
rule is in L{chatroom.room}. autobahn speaks RFC 6455; what it would
refuse on its own (bad UTF-8, long messages) is let through to the session
instead, so a browser gets the same C{C ERR} a TCP client gets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import cast

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime, ISSLTransport
from zope.interface import implementer

from chatroom import codec
from chatroom.codec import Err, FrameError, Reason
from chatroom.output import Flusher, canWriteDirectly, writeNow
from chatroom.pipeline import IChannel, IDoorway, Session
from chatroom.sockets import IConnection
from chatroom.tcp import CLOSE_GRACE, SENDQ, SendQueue, describe

#: The WebSocket subprotocol a client must ask for.
SUBPROTOCOL = "chatroom.v1"

#: Bytes of a message kept: one more than a frame may have, enough to see
#: that it is too long (the rest is discarded as it arrives).
KEEP = codec.MAX_CLIENT_FRAME + 1


def textMessage(frame: bytes) -> bytes:
    """
    C{frame} as one unmasked WebSocket text message (RFC 6455 section 5.2),
    as a server sends it.
    """
    size = len(frame)
    if size < 126:
        return bytes((0x81, size)) + frame
    if size < 0x10000:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + frame
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + frame


@implementer(IChannel)
class WebSocketChannel(WebSocketServerProtocol):
    """
    One browser (or any WebSocket client), from the opening handshake on.
    """

    transportName = "WEB"
    factory: WebSocketFactory
    _connection: IConnection  # the transport, as what it really is

    def __init__(self) -> None:
        super().__init__()
        self._session: Session | None = None
        self._sendq: SendQueue | None = None
        self._pending: list[bytes] | None = None  # messages waiting for the next flush
        self._direct = False  # may the flush write to the socket itself
        self._held: deque[tuple[bytes, bool]] = deque()  # read while paused
        self._paused = False
        self._kept = 0  # bytes kept of the message arriving
        self._gone = False
        self._cut: IDelayedCall | None = None
        self._closeWaiters: list[Deferred[None]] = []
        self.peer = self.host = "?"

    # The handshake.

    def connectionMade(self) -> None:
        super().connectionMade()
        self._connection = cast(IConnection, self.transport)
        self._direct = canWriteDirectly(self._connection)
        address = self._connection.getPeer()
        self.peer = describe(address)
        self.host = getattr(address, "host", self.peer)
        # twisted.web's channel registered itself on the connection it
        # handed over: ours notices a browser that stopped reading.
        self._connection.unregisterProducer()
        self._sendq = SendQueue(self.factory.sendq, self._overflow)
        self._connection.registerProducer(self._sendq, True)

    def onConnect(self, request: ConnectionRequest) -> str:
        """
        Accept only the chat's subprotocol, and only from an allowed page:
        otherwise any site a user visits could drive their browser into
        the room.
        """
        if SUBPROTOCOL not in request.protocols:
            raise ConnectionDeny(400, f"the WebSocket subprotocol must be {SUBPROTOCOL}")
        origin = request.headers.get("origin")
        if origin is not None and not self.factory.allows(
            origin, request.headers.get("host", ""), self._secure
        ):
            raise ConnectionDeny(403, "this page's origin may not use the chat")
        return SUBPROTOCOL

    @property
    def _secure(self) -> bool:
        return ISSLTransport.providedBy(self.transport)

    def onOpen(self) -> None:
        self._session = self.factory.service.connect(self)

    # Messages in: kept short, then handed over whole.

    def onMessageBegin(self, isBinary: bool) -> None:
        super().onMessageBegin(isBinary)
        self._kept = 0

    def onMessageFrameData(self, payload: bytes) -> None:
        room = KEEP - self._kept
        if room > 0:
            kept = payload[:room]
            self._kept += len(kept)
            super().onMessageFrameData(kept)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if self._paused:
            self._held.append((payload, isBinary))
        else:
            self._deliver(payload, isBinary)

    def _deliver(self, payload: bytes, isBinary: bool) -> None:
        session = self._session
        if session is None:
            return
        if isBinary:
            session.invalid(
                FrameError(Err.BAD_FRAME, "frames are text messages", codec.kindOf(payload))
            )
        elif len(payload) > codec.MAX_CLIENT_FRAME:
            session.lineTooLong(payload[:1])
        else:
            session.lineReceived(payload)

    # The end.

    def _overflow(self) -> None:
        """
        The browser stopped reading: drop it, as L{chatroom.tcp} does, and
        tell the service on the next turn (never from inside a send).
        """
        self._connection.abortConnection()
        self.factory.clock.callLater(0, self._dropped)

    def _dropped(self) -> None:
        if self._session is not None:
            self._session.channelClosed(Reason.DROPPED)
            self._session = None

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self._gone = True
        self._held.clear()
        overflowed = self._sendq is not None and self._sendq.overflowed
        if self._session is not None and not overflowed:
            self._session.channelClosed(Reason.CLOSED)
            self._session = None
        if self._cut is not None and self._cut.active():
            self._cut.cancel()
        waiters, self._closeWaiters = self._closeWaiters, []
        for waiter in waiters:
            waiter.callback(None)

    # IChannel

    def send(self, frame: bytes) -> None:
        if self._gone or self.state != self.STATE_OPEN:
            return
        message = self.factory.flusher.encoded(frame)
        if self._pending is None:
            self._pending = [message]
            self.factory.flusher.later(self)
        else:
            self._pending.append(message)

    def flush(self) -> None:
        """
        Write what was sent since the last flush, with one call.
        """
        pending, self._pending = self._pending, None
        if pending is None or self._gone or self.state != self.STATE_OPEN:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        if self._direct:
            writeNow(self._connection, data)  # type: ignore[arg-type]
        else:
            self._connection.write(data)
        if self._sendq is not None:
            self._sendq.wrote(len(data))

    def close(self) -> Deferred[None]:
        self.flush()
        if self._gone:
            return succeed(None)
        if self._cut is None:
            self._connection.unregisterProducer()
            self.sendClose(1000)
            # A browser that stopped reading would keep the socket forever.
            self._cut = self.factory.clock.callLater(CLOSE_GRACE, self._connection.abortConnection)
        waiter: Deferred[None] = Deferred()
        self._closeWaiters.append(waiter)
        return waiter

    def pauseReading(self) -> None:
        """
        Stop reading the socket; the messages one read already brought wait.
        """
        self._paused = True
        self._connection.pauseProducing()

    def resumeReading(self) -> None:
        self._paused = False
        while self._held and not self._paused:
            self._deliver(*self._held.popleft())
        if not self._paused and not self._gone:
            self._connection.resumeProducing()


class WebSocketFactory(WebSocketServerFactory):
    """
    Makes a L{WebSocketChannel} for each handshake, all feeding one service.

    @ivar origins: the origins allowed beside the server's own page, such
        as C{https://chat.example.org}, lower case.
    """

    protocol = WebSocketChannel  # type: ignore[assignment]

    def __init__(
        self,
        service: IDoorway,
        clock: IReactorTime,
        origins: Iterable[str] = (),
        sendq: int = SENDQ,
    ) -> None:
        super().__init__(protocols=[SUBPROTOCOL])
        self.service = service
        self.clock = clock
        self.sendq = sendq
        self.flusher = Flusher(clock, encode=textMessage)
        self.origins = frozenset(origin.rstrip("/").lower() for origin in origins)
        # The session decides about UTF-8 and length, and answers as over
        # TCP; autobahn would close the connection instead.
        self.setProtocolOptions(
            utf8validateIncoming=False,
            maxMessagePayloadSize=0,
            maxFramePayloadSize=0,
            autoPingInterval=0,
            openHandshakeTimeout=10,
            closeHandshakeTimeout=CLOSE_GRACE,
        )

    def allows(self, origin: str, host: str, secure: bool) -> bool:
        """
        Whether a handshake from a page of C{origin} may open a session:
        the server's own page (the scheme and C{Host} it was reached by),
        or an origin the operator allowed.
        """
        origin = origin.rstrip("/").lower()
        own = f"{'https' if secure else 'http'}://{host}".lower()
        return origin == own or origin in self.origins
