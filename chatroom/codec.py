"""
The frame codec: bytes to L{Frame} and back, the limits and terminators of
a frame, the greeting, and the error codes and reasons (L{Err}, L{Reason})
that server and clients alike decide by.

The same codec serves the server, the clients, the tests and every
transport; splitting a stream into lines is L{chatroom.lines}', numbering
frames in datagrams L{chatroom.datagrams}', and what a frame means is the
room's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

#: Longest frame a client may send, in bytes, terminator excluded.
MAX_CLIENT_FRAME = 4096

#: Longest frame a server may send: a relayed message adds a header.
#: The longest the server builds is a relayed C{D PM} of the longest client
#: text under the longest name (32 characters of 4 bytes):
#: 5 + 128 + 5 + 4094 = 4232 bytes. Only a list grows with the room, and
#: lists are split (L{listFrames}). Encoding anything longer raises
#: L{FrameTooLong}, so such a frame is never sent to anyone.
MAX_SERVER_FRAME = 8192

#: Longest frame of a list (such as C{C USERS}) before it is split.
MAX_LIST_FRAME = 4096

#: The word that marks a list frame with more frames to follow.
CONTINUED = "+"

COMMAND = "C"
DATA = "D"

#: What ends a line the server sends.
TERMINATOR = b"\r\n"

#: What ends a line a peer receives; an optional C{\r} before it is dropped.
DELIMITER = b"\n"


class Err(StrEnum):
    """
    The codes of C{C ERR <code> <text>}: decide by these, show the text.
    """

    BAD_FRAME = "BAD_FRAME"
    TOO_LONG = "TOO_LONG"
    UNKNOWN = "UNKNOWN"
    STATE = "STATE"
    BAD_NAME = "BAD_NAME"
    NAME_TAKEN = "NAME_TAKEN"
    BAD_PASSWORD = "BAD_PASSWORD"
    NO_SUCH_USER = "NO_SUCH_USER"
    BAD_TEXT = "BAD_TEXT"
    UNAVAILABLE = "UNAVAILABLE"  # 1.1
    RATE = "RATE"
    FULL = "FULL"
    INBOX_FULL = "INBOX_FULL"  # 1.1
    DENIED = "DENIED"  # 1.2: a moderation verb the sender's role does not allow
    BANNED = "BANNED"  # 1.2: C ERR BANNED <until> [reason], at C LOGIN
    MUTED = "MUTED"  # 1.2: C ERR MUTED <until>
    SLOW = "SLOW"  # 1.2: C ERR SLOW <seconds>
    INSECURE = "INSECURE"  # 1.2: C LOGIN in clear where --plaintext-logins does not allow it


class Reason(StrEnum):
    """
    Why a session ended, as C{C LEAVE} and C{C BYE} say it.
    """

    EXIT = "EXIT"
    CLOSED = "CLOSED"
    TIMEOUT = "TIMEOUT"
    DROPPED = "DROPPED"
    SHUTDOWN = "SHUTDOWN"
    REPLACED = "REPLACED"  # 1.1
    KICKED = "KICKED"  # 1.2
    BANNED = "BANNED"  # 1.2


# C0 controls except TAB, DEL, and C1 controls: they would let one user
# drive another user's terminal.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_VERB = re.compile("[A-Z]+")


class FrameTooLong(ValueError):
    """
    A frame was built longer than L{MAX_SERVER_FRAME}: it is never sent,
    since no client would accept it (and no datagram might carry it).
    """


class FrameError(Exception):
    """
    A line that cannot be accepted as a frame.

    @ivar code: the protocol error code (C{BAD_FRAME}, C{TOO_LONG}, or
        C{RATE} for a frame refused before it was handled).
    @ivar reason: human text for the C{C ERR} reply.
    @ivar kind: C{"D"} when the line was recognisably a data frame, since
        an error in reply to a data frame ends the pending operation.
    """

    def __init__(self, code: Err, reason: str, kind: str | None = None) -> None:
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


def verbOf(line: bytes) -> str | None:
    """
    The verb a line claims as a command frame, judged by its head only, like
    L{kindOf}: L{None} for anything that does not start with C{"C "}.

    For a decision taken before a frame is handled, such as whether a first
    datagram asks to log in: a C{C LOGIN} that will not decode (too long, not
    UTF-8) still opens a session, which then answers it with C{C ERR}.
    """
    if kindOf(line) != COMMAND or line[1:2] != b" ":
        return None
    return line[2:].partition(b" ")[0].decode("utf-8", "replace")


def decode(line: bytes, limit: int = MAX_CLIENT_FRAME) -> Frame:
    """
    Decode one frame, without its terminator.

    @raise FrameError: if the line is longer than C{limit} bytes, is not
        UTF-8, holds control characters or does not start with a frame type.
    """
    kind = kindOf(line)
    if len(line) > limit:
        raise FrameError(Err.TOO_LONG, f"frames are at most {limit} bytes", kind)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError(Err.BAD_FRAME, "frames must be UTF-8", kind) from None
    if _CONTROL.search(text):
        raise FrameError(Err.BAD_FRAME, "control characters are not allowed", kind)
    if kind is None or (len(text) > 1 and text[1] != " "):
        raise FrameError(Err.BAD_FRAME, "a frame starts with 'C ' or 'D '", kind)
    if kind == DATA:
        return Frame(DATA, "", text[2:])
    verb, _, rest = text[2:].partition(" ")
    if not verb:
        raise FrameError(Err.BAD_FRAME, "a command frame needs a verb", kind)
    return Frame(COMMAND, verb, rest)


def isExit(item: Frame | FrameError) -> bool:
    """
    Whether C{item} is C{C EX} (without arguments).
    """
    # Every frame a client sends passes here: no tuple-building __eq__.
    return type(item) is Frame and item.verb == "EX" and not item.rest


def hasControl(text: str) -> bool:
    """
    Whether C{text} holds a character no frame may carry (C0 and C1
    controls but TAB, and DEL).
    """
    return _CONTROL.search(text) is not None


def hello(transportName: str) -> bytes:
    """
    The greeting that opens every session.
    """
    return command("HELLO", "chatroom", "1", transportName)


def isVerb(word: str) -> bool:
    """
    Whether C{word} has the shape of a verb (upper-case ASCII letters).
    """
    return _VERB.fullmatch(word) is not None


def _join(kind: str, parts: tuple[str, ...]) -> bytes:
    frame = " ".join((kind, *parts)).encode("utf-8")
    if len(frame) > MAX_SERVER_FRAME:
        raise FrameTooLong(f"a {len(frame)}-byte frame is over {MAX_SERVER_FRAME} bytes")
    return frame


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


def listFrames(verb: str, entries: list[str], limit: int = MAX_LIST_FRAME) -> list[bytes]:
    """
    Encode a list as one command frame, or as several when one would be
    longer than C{limit} bytes: every frame but the last is
    C{C <verb> + <entry> …}, the last is C{C <verb> <entry> …}.

    Entries are never split, so a reader that joins the frames' entries in
    order has the list. An entry must not be C{+}.

    @raise FrameTooLong: if one entry alone cannot fit in a frame.
    """
    widths = [1 + len(entry.encode("utf-8")) for entry in entries]
    if len(command(verb)) + sum(widths) <= limit:
        return [command(verb, *entries)]
    head = len(command(verb, CONTINUED))
    frames: list[bytes] = []
    chunk: list[str] = []
    size = head
    for entry, width in zip(entries, widths, strict=True):
        if head + width > limit:
            raise FrameTooLong(f"a list entry of {width - 1} bytes cannot fit in {limit}")
        if size + width > limit:
            frames.append(command(verb, CONTINUED, *chunk))
            chunk, size = [], head
        chunk.append(entry)
        size += width
    frames.append(command(verb, *chunk))
    return frames
