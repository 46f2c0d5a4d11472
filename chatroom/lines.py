"""
Frames out of a byte stream: L{FrameLines}, the line receiver of the line
doors (TCP and TLS now). It splits at L{DELIMITER} and drops the optional
C{\\r}, skips an over-long line without losing the connection or the frames
pipelined after it, holds back what one read brought while reading is
paused, and says when the peer's input ended (a half-close), once every line
before it was passed on.
"""

from __future__ import annotations

from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.protocols.basic import LineReceiver
from zope.interface import implementer

from chatroom.codec import DELIMITER, MAX_CLIENT_FRAME
from chatroom.sockets import IConnection


def stripTerminator(line: bytes) -> bytes:
    """
    A line split at L{DELIMITER}, without the optional C{\\r} before it.
    """
    return line[:-1] if line.endswith(b"\r") else line


@implementer(IHalfCloseableProtocol)
class FrameLines(LineReceiver):
    """
    A L{LineReceiver} that passes each line on to L{frameReceived} without
    its terminator, each line over C{MAX_LENGTH} to L{frameTooLong} before
    skipping the rest of it (the connection, and any frames pipelined after
    the long line, live on), and the end of the peer's input to
    L{inputEnded}.

    C{MAX_LENGTH} counts the C{\\r}: set it to the frame limit plus one.
    """

    delimiter = DELIMITER
    MAX_LENGTH = MAX_CLIENT_FRAME + 1
    transport: IConnection

    _skipping = False  # inside an over-long line, until its delimiter
    _unparsed: bytes | None = None  # left by lineLengthExceeded
    _inputEnded = False  # the peer sent its FIN

    def frameReceived(self, frame: bytes) -> None:
        """
        One frame arrived, terminator removed.
        """
        raise NotImplementedError

    def frameTooLong(self, head: bytes) -> None:
        """
        A line over C{MAX_LENGTH} arrived; C{head} is its first byte, which
        says what kind of frame it claimed to be.
        """
        raise NotImplementedError

    def inputEnded(self) -> None:
        """
        The peer will send nothing more (but may still read), and every
        frame it sent was passed on.
        """
        raise NotImplementedError

    def lineReceived(self, line: bytes) -> None:
        self.frameReceived(stripTerminator(line))

    def dataReceived(self, data: bytes) -> None:
        if self._skipping and data:  # b"" only asks to parse what is buffered
            end = data.find(DELIMITER)
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
        self.frameTooLong(line[:1])
        end = line.find(DELIMITER)
        if end < 0:
            self._skipping = True
        else:
            self._unparsed = line[end + 1 :]

    # Pausing, for the channel (see StreamDoor).

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

    # The end.

    def readConnectionLost(self) -> None:
        """
        The peer will send nothing more, but may still read: pass on what
        it sent (some of it may wait while reading is paused).
        """
        self._inputEnded = True
        self._endOfInput()

    def writeConnectionLost(self) -> None:
        pass

    def _endOfInput(self) -> None:
        """
        Once every line sent before the FIN was passed on, say so. An
        unterminated last line is a frame all the same: the peer chose to
        end there; inside an over-long line there is nothing left.
        """
        if not self._inputEnded or self.paused:
            return
        last = self.clearLineBuffer()
        if last and not self._skipping:
            self.lineReceived(last)
        if not self.transport.disconnecting:
            self.inputEnded()

    def discardInput(self) -> None:
        """
        Forget whatever arrived and was not parsed yet.
        """
        self.clearLineBuffer()
        self._unparsed = None
