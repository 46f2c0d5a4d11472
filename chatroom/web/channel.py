"""
The WebSocket transport: one frame per text message, no terminator.

Like L{chatroom.tcp}, this only turns messages into frames and frames into
messages: output is L{chatroom.stream}'s L{StreamChannel}, and every rule is
the room's, reached only through L{IDoorway}. autobahn speaks RFC 6455;
what it would refuse on its own (bad UTF-8, long messages) is let through
to the session instead, so a browser gets the same C{C ERR} a TCP client
gets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import cast

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet.interfaces import IReactorTime, ISSLTransport

from chatroom import codec
from chatroom.codec import Err, FrameError
from chatroom.output import Flusher
from chatroom.pipeline import IDoorway
from chatroom.settings import SENDQ
from chatroom.sockets import IConnection
from chatroom.stream import CLOSE_GRACE, StreamChannel

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


class ChatWebSocketProtocol(WebSocketServerProtocol):
    """
    One browser (or any WebSocket client), from the opening handshake on:
    its messages, passed to its session; its output is its L{channel}'s.
    """

    factory: WebSocketFactory
    channel: StreamChannel | None = None  # from connectionMade on

    def __init__(self) -> None:
        super().__init__()
        self._held: deque[tuple[bytes, bool]] = deque()  # read while paused
        self._paused = False
        self._kept = 0  # bytes kept of the message arriving

    @property
    def _connection(self) -> IConnection:
        """
        The transport, as what it really is.
        """
        return cast(IConnection, self.transport)

    # The handshake.

    def connectionMade(self) -> None:
        super().connectionMade()
        # twisted.web's channel registered itself on the connection it
        # handed over: ours notices a browser that stopped reading.
        self._connection.unregisterProducer()
        factory = self.factory
        self.channel = StreamChannel(
            self,
            self._connection,
            "WEB",
            factory.flusher,
            factory.clock,
            factory.sendq,
            isOpen=self._isOpen,
        )

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
        if self.channel is not None:
            self.channel.open(self.factory.service)

    def _isOpen(self) -> bool:
        """
        Whether frames may still be sent: not once the closing handshake began.
        """
        return self.state == self.STATE_OPEN

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
        session = None if self.channel is None else self.channel.session
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

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self._held.clear()
        if self.channel is not None:
            self.channel.lost()

    # StreamDoor

    def beginClose(self) -> None:
        self.sendClose(1000)

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
        if not self._paused and not (self.channel is None or self.channel.gone):
            self._connection.resumeProducing()


class WebSocketFactory(WebSocketServerFactory):
    """
    Makes a L{ChatWebSocketProtocol} for each handshake, all into one room.

    @ivar origins: the origins allowed beside the server's own page, such
        as C{https://chat.example.org}, lower case.
    """

    protocol = ChatWebSocketProtocol  # type: ignore[assignment]

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
