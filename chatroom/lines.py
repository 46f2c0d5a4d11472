"""
Frames out of a byte stream: L{FrameLines}, the line receiver of the line
doors (TCP and TLS now).
"""

from __future__ import annotations

from twisted.protocols.basic import LineReceiver

from chatroom.codec import DELIMITER, MAX_CLIENT_FRAME


def stripTerminator(line: bytes) -> bytes:
    """
    A line split at L{DELIMITER}, without the optional C{\\r} before it.
    """
    return line[:-1] if line.endswith(b"\r") else line


class FrameLines(LineReceiver):
    """
    A L{LineReceiver} that splits at L{DELIMITER} and passes each line on
    to L{frameReceived} without its optional C{\\r}.

    C{MAX_LENGTH} counts the C{\\r}: set it to the frame limit plus one.
    """

    delimiter = DELIMITER
    MAX_LENGTH = MAX_CLIENT_FRAME + 1

    def lineReceived(self, line: bytes) -> None:
        self.frameReceived(stripTerminator(line))

    def frameReceived(self, frame: bytes) -> None:
        """
        One frame arrived, terminator removed.
        """
        raise NotImplementedError
