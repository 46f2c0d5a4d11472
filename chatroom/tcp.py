"""
The TCP transport: newline-terminated frames in, C{\\r\\n}-terminated out.

This module only turns bytes into lines and lines into bytes: lines are
L{chatroom.lines}' L{FrameLines}, output is L{chatroom.stream}'s
L{StreamChannel}, the session is L{chatroom.pipeline}'s, and every rule is
the room's, reached only through L{IDoorway}.
"""

from __future__ import annotations

from twisted.internet.interfaces import IAddress, IReactorTime, ITCPTransport
from twisted.internet.protocol import Factory, connectionDone
from twisted.python.failure import Failure

from chatroom.lines import FrameLines
from chatroom.output import Flusher
from chatroom.pipeline import IDoorway, Session
from chatroom.settings import SENDQ
from chatroom.stream import StreamChannel


class ChatLineProtocol(FrameLines):
    """
    One TCP client: its lines, passed to its session; its output is its
    L{channel}'s.

    A frame is at most 4096 bytes, plus an optional C{\\r} before the
    C{\\n}. A longer line gets C{C ERR TOO_LONG} and the rest of it is
    skipped, but the connection and any frames pipelined after it live on.

    A client that half-closes (sends its FIN) still has every frame it sent
    before that handled and answered; then the session ends.
    """

    channel: StreamChannel | None = None  # from connectionMade on

    def __init__(
        self,
        service: IDoorway,
        clock: IReactorTime,
        sendq: int = SENDQ,
        flusher: Flusher | None = None,
    ) -> None:
        self._service = service
        self._clock = clock
        self._sendq = sendq
        self._flusher = flusher or Flusher(clock)

    @property
    def _session(self) -> Session | None:
        channel = self.channel
        return None if channel is None else channel.session

    def connectionMade(self) -> None:
        if ITCPTransport.providedBy(self.transport):
            # Flushes are already batched: never wait for an ack as well.
            self.transport.setTcpNoDelay(True)
        self.channel = StreamChannel(
            self, self.transport, "TCP", self._flusher, self._clock, self._sendq
        )
        self.channel.open(self._service)

    def frameReceived(self, frame: bytes) -> None:
        session = self._session
        if session is not None:
            session.lineReceived(frame)

    def frameTooLong(self, head: bytes) -> None:
        session = self._session
        if session is not None:
            session.lineTooLong(head)

    def inputEnded(self) -> None:
        session = self._session
        if session is not None:
            session.endOfInput()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self.channel is not None:
            self.channel.lost()
        # Whatever the client sent that was never handled goes with it.
        self.discardInput()

    def beginClose(self) -> None:
        self.transport.loseConnection()


class ChatFactory(Factory):
    """
    Makes a L{ChatLineProtocol} for each connection, all into one room.
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
