"""
The frame codec: bytes on the wire to L{Frame} and back.

Frames are lines of UTF-8 text; the transport (TCP line splitting, UDP
datagrams with sequence numbers) is not this module's business, so the same
codec serves the server, the clients and both transports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Longest frame a client may send, in bytes, terminator excluded.
MAX_CLIENT_FRAME = 4096

#: Longest frame a server may send: a relayed message adds a header.
MAX_SERVER_FRAME = 8192

COMMAND = "C"
DATA = "D"

# C0 controls except TAB, DEL, and C1 controls: they would let one user
# drive another user's terminal.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_VERB = re.compile("[A-Z]+")


class FrameError(Exception):
    """
    A line that cannot be accepted as a frame.

    @ivar code: the protocol error code (C{BAD_FRAME} or C{TOO_LONG}).
    @ivar reason: human text for the C{C ERR} reply.
    @ivar kind: C{"D"} when the line was recognisably a data frame, since
        an error in reply to a data frame ends the pending operation.
    """

    def __init__(self, code: str, reason: str, kind: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Frame:
    """
    One decoded frame.

    @ivar kind: C{"C"} (command) or C{"D"} (data).
    @ivar verb: the command's verb; empty for data frames.
    @ivar rest: everything after the verb (or after C{"D "}), unparsed,
        because only the verb knows how many words precede free text.
    """

    kind: str
    verb: str
    rest: str

    def words(self, count: int) -> list[str]:
        """
        Split L{rest} into at most C{count} words and a final text part.

        C{Frame("D", "", "bob see you").words(1)} is C{["bob", "see you"]}.
        Missing parts are absent, so callers check the length.
        """
        if not self.rest:
            return []
        return self.rest.split(" ", count)


def kindOf(line: bytes) -> str | None:
    """
    Which kind of frame a line claims to be, judged by its first byte only.

    Used for lines too long or too broken to decode.
    """
    head = line[:1]
    if head == b"C":
        return COMMAND
    if head == b"D":
        return DATA
    return None


def decode(line: bytes, limit: int = MAX_CLIENT_FRAME) -> Frame:
    """
    Decode one frame, without its terminator.

    @raise FrameError: if the line is longer than C{limit} bytes, is not
        UTF-8, holds control characters or does not start with a frame type.
    """
    kind = kindOf(line)
    if len(line) > limit:
        raise FrameError("TOO_LONG", f"frames are at most {limit} bytes", kind)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("BAD_FRAME", "frames must be UTF-8", kind) from None
    if _CONTROL.search(text):
        raise FrameError("BAD_FRAME", "control characters are not allowed", kind)
    if kind is None or (len(text) > 1 and text[1] != " "):
        raise FrameError("BAD_FRAME", "a frame starts with 'C ' or 'D '", kind)
    if kind == DATA:
        return Frame(DATA, "", text[2:])
    verb, _, rest = text[2:].partition(" ")
    if not verb:
        raise FrameError("BAD_FRAME", "a command frame needs a verb", kind)
    return Frame(COMMAND, verb, rest)


def isVerb(word: str) -> bool:
    """
    Whether C{word} has the shape of a verb (upper-case ASCII letters).
    """
    return _VERB.fullmatch(word) is not None


def _join(kind: str, parts: tuple[str, ...]) -> bytes:
    return " ".join((kind, *parts)).encode("utf-8")


def command(verb: str, *parts: str) -> bytes:
    """
    Encode a command frame (no terminator); the last part may be free text.
    """
    return _join(COMMAND, (verb, *parts))


def data(*parts: str) -> bytes:
    """
    Encode a data frame (no terminator); the last part may be free text.
    """
    return _join(DATA, parts)
