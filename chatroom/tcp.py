"""
The TCP transport: newline-terminated frames in, C{\\r\\n}-terminated out.

This module only turns bytes into lines and lines into bytes: it is the
TCP adapter of L{chatroom.pipeline}, and every rule is the room's, reached
only through L{IDoorway}.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IHalfCloseableProtocol,
    IPushProducer,
    IReactorTime,
    ITCPTransport,
)
from twisted.internet.protocol import Factory, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom.codec import Reason
from chatroom.lines import FrameLines
from chatroom.output import Flusher, canWriteDirectly, writeNow
from chatroom.pipeline import IChannel, IDoorway, Session
from chatroom.sockets import IConnection

#: How long a closing connection may take to flush before it is cut.
CLOSE_GRACE = 2.0

#: Output that may wait for a client that stopped reading, beyond what the
#: transport buffers itself, before the client is dropped.
SENDQ = 1024 * 1024


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


def describe(address: IAddress) -> str:
    """
    C{host:port} for the console, whatever kind of address it is.
    """
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    return str(address) if host is None else f"{host}:{port}"


@implementer(IChannel, IHalfCloseableProtocol)
class ChatLineProtocol(FrameLines):
    """
    One TCP client.

    A frame is at most 4096 bytes, plus an optional C{\\r} before the
    C{\\n}. A longer line gets C{C ERR TOO_LONG} and the rest of it is
    skipped, but the connection and any frames pipelined after it live on.

    A client that half-closes (sends its FIN) still has every frame it sent
    before that handled and answered; then the session ends.
    """

    transportName = "TCP"
    transport: IConnection

    def __init__(
        self,
        service: IDoorway,
        clock: IReactorTime,
        sendq: int = SENDQ,
        flusher: Flusher | None = None,
    ) -> None:
        self._service = service
        self._clock = clock
        self._flusher = flusher or Flusher(clock)
        self._pending: list[bytes] | None = None  # lines waiting for the next flush
        self._direct = False  # may the flush write to the socket itself
        self._sendq = SendQueue(sendq, self._overflow)
        self._session: Session | None = None
        self._skipping = False  # inside an over-long line, until its \n
        self._unparsed: bytes | None = None  # left by lineLengthExceeded
        self._gone = False
        self._inputEnded = False  # the client sent its FIN
        self._cut: IDelayedCall | None = None
        self._closeWaiters: list[Deferred[None]] | None = None
        self.host = "?"

    @property
    def peer(self) -> str:
        """
        C{host:port} for the console: made when a log line needs it rather
        than kept by each of thousands of connections.
        """
        return "?" if self.transport is None else describe(self.transport.getPeer())

    def connectionMade(self) -> None:
        address = self.transport.getPeer()
        self.host = getattr(address, "host", None) or describe(address)
        if ITCPTransport.providedBy(self.transport):
            # Flushes are already batched: never wait for an ack as well.
            self.transport.setTcpNoDelay(True)
        self._direct = canWriteDirectly(self.transport)
        self.transport.registerProducer(self._sendq, True)
        self._session = self._service.connect(self)

    def _overflow(self) -> None:
        """
        The client stopped reading: drop it rather than buffer without end
        (everyone else keeps being served meanwhile).

        This happens inside L{flush}, while the turn's output is written to
        every connection, so the service hears of it on the next turn of
        the reactor: a channel never re-enters the service while writing.
        """
        self.transport.abortConnection()
        self._clock.callLater(0, self._dropped)

    def _dropped(self) -> None:
        if self._session is not None:
            self._session.channelClosed(Reason.DROPPED)

    def dataReceived(self, data: bytes) -> None:
        if self._skipping and data:  # b"" only asks to parse what is buffered
            end = data.find(b"\n")
            if end < 0:
                return
            self._skipping = False
            data = data[end + 1 :]
        super().dataReceived(data)
        # LineReceiver stops after lineLengthExceeded; parse what followed.
        while self._unparsed is not None and not self.transport.disconnecting:
            rest, self._unparsed = self._unparsed, None
            super().dataReceived(rest)

    def lineLengthExceeded(self, line: bytes) -> None:
        """
        Skip the over-long line, not the connection.

        C{line} holds everything buffered from the long line onwards, which
        may include whole frames pipelined after it.
        """
        if self._session is not None:
            self._session.lineTooLong(line[:1])
        end = line.find(b"\n")
        if end < 0:
            self._skipping = True
        else:
            self._unparsed = line[end + 1 :]

    def frameReceived(self, frame: bytes) -> None:
        if self._session is not None:
            self._session.lineReceived(frame)

    def readConnectionLost(self) -> None:
        """
        The client will send nothing more, but may still read: answer what
        it sent (some frames may still wait behind the inbox limit).
        """
        self._inputEnded = True
        self._endOfInput()

    def _endOfInput(self) -> None:
        """
        Once every frame sent before the FIN was passed on, tell the session.
        """
        if not self._inputEnded or self.paused or self._session is None:
            return
        # An unterminated last line is a frame all the same: the client
        # chose to end there. Inside an over-long line there is nothing left.
        last = self.clearLineBuffer()
        if last and not self._skipping:
            self.lineReceived(last)
        if self._session is not None and not self.transport.disconnecting:
            self._session.endOfInput()

    def writeConnectionLost(self) -> None:
        pass

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._session is not None and not self._sendq.overflowed:
            self._session.channelClosed(Reason.CLOSED)
            self._session = None
        self._gone = True
        # Whatever the client sent that was never handled goes with it.
        self.clearLineBuffer()
        self._unparsed = None
        if self._cut is not None and self._cut.active():
            self._cut.cancel()
        waiters, self._closeWaiters = self._closeWaiters or [], None
        for waiter in waiters:
            waiter.callback(None)

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
        if pending is None or self._gone:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        if self._direct:
            writeNow(self.transport, data)  # type: ignore[arg-type]
        else:
            self.transport.write(data)
        if self._sendq.blocked:  # only a client that stopped reading is counted
            self._sendq.wrote(len(data))

    def close(self) -> Deferred[None]:
        self.flush()
        if self._gone:
            return succeed(None)
        if self._cut is None:
            # A producer left registered holds a TLS connection open (no
            # close_notify) until it is cut; a plain one may wait the same.
            self.transport.unregisterProducer()
            self.transport.loseConnection()
            # A client that stopped reading would keep the socket forever.
            self._cut = self._clock.callLater(CLOSE_GRACE, self.transport.abortConnection)
        waiter: Deferred[None] = Deferred()
        if self._closeWaiters is None:
            self._closeWaiters = []
        self._closeWaiters.append(waiter)
        return waiter

    def pauseReading(self) -> None:
        """
        Stop reading the socket, and stop parsing what one read already
        brought: a single read may hold thousands of pipelined frames.
        """
        self.pauseProducing()  # LineReceiver's: the transport too

    def resumeReading(self) -> None:
        self.paused = False
        if not self._inputEnded:  # reading past the FIN would see it again
            self.transport.resumeProducing()
        self.dataReceived(b"")  # the frames held back in the buffer
        self._endOfInput()


class ChatFactory(Factory):
    """
    Makes a L{ChatLineProtocol} for each connection, all feeding one service.
    """

    def __init__(self, service: IDoorway, clock: IReactorTime, sendq: int = SENDQ) -> None:
        self.service = service
        self.clock = clock
        self.sendq = sendq
        self.flusher = Flusher(clock)

    def buildProtocol(self, addr: IAddress | None) -> ChatLineProtocol:
        protocol = ChatLineProtocol(self.service, self.clock, self.sendq, self.flusher)
        protocol.factory = self
        return protocol
