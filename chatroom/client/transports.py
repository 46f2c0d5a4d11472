"""
The client's side of the two transports: frames in and out, nothing else.

Each transport reports to a L{Listener}: a frame arrived, or the session
is over. What the frames mean is the client machine's business.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from twisted.internet.error import MessageLengthError
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import DatagramProtocol, connectionDone
from twisted.internet.task import LoopingCall
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure

from chatroom import codec
from chatroom.reliable import ReliableLink, parseDatagram

#: Send a PING after this long without sending anything (UDP).
KEEPALIVE = 15.0
TICK = 0.025


class Listener:
    """
    Where a transport reports (the client wires these to its machine).
    """

    def __init__(self, frame: Callable[[str], object], lost: Callable[[], object]) -> None:
        self.frame = frame
        self.lost = lost


def _text(line: bytes) -> str:
    return line.decode("utf-8", errors="replace")


class TCPClientProtocol(LineReceiver):
    """
    Frames over one TCP connection.
    """

    delimiter = b"\n"
    MAX_LENGTH = codec.MAX_SERVER_FRAME + 1

    def __init__(self, listener: Listener) -> None:
        self.listener = listener

    def lineReceived(self, line: bytes) -> None:
        self.listener.frame(_text(line.removesuffix(b"\r")))

    def lineLengthExceeded(self, line: bytes) -> None:
        pass  # longer than any server frame: not ours to show

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.listener.lost()

    def sendFrame(self, frame: str) -> None:
        self.transport.write(frame.encode("utf-8") + b"\n")

    def close(self) -> None:
        self.transport.loseConnection()


class UDPClientProtocol(DatagramProtocol):
    """
    Frames over UDP, made reliable by the same link the server uses.

    Keeps the session alive with C{C PING} when the user has been quiet, and
    reports the server lost when a frame goes unanswered through every retry.
    """

    def __init__(
        self,
        server: tuple[str, int],
        listener: Listener,
        clock: IReactorTime,
        rng: random.Random | None = None,
    ) -> None:
        self.server = server
        self.listener = listener
        self.clock = clock
        now = clock.seconds()
        self.link = ReliableLink(
            self._transmit,
            lambda frame: self.listener.frame(_text(frame)),
            self._failed,
            sendSeq=(rng or random.SystemRandom()).randrange(2**31),
            recvSeq=None,  # learnt from the server's HELLO
            now=now,
        )
        self.lastSent = now
        self._ticker = LoopingCall(self._tick)
        self._ticker.clock = clock
        self._over = False

    def startProtocol(self) -> None:
        self._ticker.start(TICK, now=False)

    def stopProtocol(self) -> None:
        if self._ticker.running:
            self._ticker.stop()

    def _transmit(self, datagram: bytes) -> None:
        if self.transport is not None:
            try:
                self.transport.write(datagram, self.server)
            except (OSError, MessageLengthError):
                pass  # lost, as datagrams may be: it is sent again

    def datagramReceived(self, data: bytes, addr: tuple[str, int]) -> None:
        # A server listening on every interface may answer from another
        # address than the one we wrote to (127.0.1.1 and 127.0.0.1), so
        # only the port is checked; sequence numbers do the rest.
        if addr[1] != self.server[1]:
            return
        parsed = parseDatagram(data)
        if parsed is None:
            return
        seq, frame = parsed
        now = self.clock.seconds()
        if frame is None:
            self.link.ackReceived(seq, now)
        else:
            self.link.frameReceived(seq, frame, now)

    def _tick(self) -> None:
        now = self.clock.seconds()
        self.link.tick(now)
        # Frames in flight are being resent anyway: no PING needed then.
        if self.link.idle and not self.link.dead and now - self.lastSent >= KEEPALIVE:
            self.sendFrame("C PING")

    def _failed(self, why: str) -> None:
        self._end()

    def _end(self) -> None:
        if not self._over:
            self._over = True
            self.listener.lost()

    def sendFrame(self, frame: str) -> None:
        self.lastSent = self.clock.seconds()
        self.link.send(frame.encode("utf-8"), self.lastSent)

    def close(self) -> None:
        self._over = True
        if self.transport is not None:
            self.transport.stopListening()
