"""
IRC lines as bytes: where one ends, how long it may be, and when it is
decoded.

A line is cut at C{\\n} (a C{\\r} before it dropped) and decoded as UTF-8
only once it is whole, so a character split across two reads arrives
intact (C{twisted.words}' IRC protocol decodes each read and fails there).
The body of a line (everything but its IRCv3 tags) is at most 512 bytes with
its terminator; a client's tags at most 4096 (a server's 8191). A longer line is reported once and
skipped to its end; the connection and the lines after it live on.

The same limits hold for what the server writes: L{fit} cuts any line to
them (its free text, at a character boundary), and L{splitText} cuts a
message into pieces that each make a whole line, so none is lost.

Tokenising is irctokens', a small, well-kept tokeniser tested against the
community's parser test data (irc-parser-tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import irctokens
from irctokens.line import Line

#: The longest body of a line, terminator included (RFC 1459, 2.3).
MAX_BODY = 512

#: The longest tag section of a line, its C{@} and the space after it
#: included (IRCv3 message-tags): what a server may send.
MAX_TAGS = 8191

#: The longest tag section a client may send: 4094 bytes of tags, C{@} and
#: the space (IRCv3 message-tags); a longer one gets 417 like a long body.
MAX_CLIENT_TAGS = 4096

#: The most bytes one line may buffer before it is known to be too long.
MAX_LINE = MAX_TAGS + MAX_BODY


#: Commands whose last parameter is a text, always sent as trailing.
TEXTS = frozenset({"PRIVMSG", "NOTICE", "QUIT", "PART", "KICK", "ERROR", "AWAY", "PONG", "CAP"})


class BadLine(ValueError):
    """
    A whole line that is not a command: not UTF-8, or holding a NUL.
    """


def tooLong(line: bytes) -> bool:
    """
    Whether a whole line (without its terminator) is over the limits.
    """
    if line.startswith(b"@"):
        tags, _, body = line.partition(b" ")
        if len(tags) + 1 > MAX_CLIENT_TAGS:
            return True
    else:
        body = line
    return len(body.lstrip(b" ")) + 2 > MAX_BODY


def parse(line: bytes) -> Line | None:
    """
    One whole line as a command, or L{None} for a line that holds nothing.

    @raise BadLine: if it is not UTF-8 or holds a NUL.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise BadLine("lines must be UTF-8") from None
    if "\0" in text:
        raise BadLine("lines must not hold NUL")
    if not text.strip(" "):
        return None
    try:
        tokens = irctokens.tokenise(text)
    except (ValueError, IndexError):  # tags or a source and no command: nothing to do
        return None
    if not tokens.command:
        return None
    tokens.command = tokens.command.upper()
    return tokens


def commandOf(line: bytes) -> str:
    """
    The command a line that could not be decoded claims, for C{FAIL}: its
    first word after any tags and source, if that is ASCII letters or
    digits; C{*} otherwise.
    """
    words = line.split()
    while words and words[0][:1] in (b"@", b":"):
        words.pop(0)
    word = words[0] if words else b""
    return word.decode("ascii").upper() if word.isalnum() and word.isascii() else "*"


def escapeTag(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\:")
        .replace(" ", "\\s")
        .replace("\r", "\\r")
        .replace("\n", "\\n")
    )


def format(
    command: str,
    params: Sequence[str] = (),
    source: str | None = None,
    tags: Mapping[str, str] | None = None,
    trailing: bool = False,
) -> bytes:
    """
    One line to send, terminator excluded: the last parameter is given as
    trailing (C{:}) where it must be (empty, with a space, starting with
    C{:}) and for texts (messages, reasons, numerics' words), as most
    servers do.
    """
    parts: list[str] = []
    if tags:
        parts.append(
            "@" + ";".join(k if v == "" else f"{k}={escapeTag(v)}" for k, v in tags.items())
        )
    if source is not None:
        parts.append(":" + source)
    parts.append(command)
    if params:
        parts.extend(params[:-1])
        last = params[-1]
        if trailing or not last or " " in last or last.startswith(":") or command in TEXTS:
            last = ":" + last
        parts.append(last)
    return " ".join(parts).encode("utf-8")


def withTags(line: bytes, tags: Mapping[str, str]) -> bytes:
    """
    C{line} (formatted) with C{tags} added in front of any it has.
    """
    added = ";".join(f"{k}={escapeTag(v)}" for k, v in tags.items()).encode("utf-8")
    if line.startswith(b"@"):
        return b"@" + added + b";" + line[1:]
    return b"@" + added + b" " + line


#: How far back from a cut L{splitText} looks for a space to cut after.
SPACE_WINDOW = 32


def charCut(data: bytes, limit: int) -> int:
    """
    The longest prefix of C{data} at most C{limit} bytes long that ends
    between UTF-8 characters (never inside one): where to cut.
    """
    if limit >= len(data):
        return len(data)
    cut = max(limit, 0)
    while cut > 0 and (data[cut] & 0xC0) == 0x80:  # a continuation byte: inside a character
        cut -= 1
    return cut


def splitText(text: str, room: int) -> list[str]:
    """
    C{text} in pieces of at most C{room} bytes each, cut only between
    characters, after a space when one is near the cut (so words stay
    whole); the pieces joined are C{text}: a room message longer than an
    IRC line goes as several.
    """
    room = max(room, 4)  # a character is at most 4 bytes
    encoded = text.encode("utf-8")
    pieces: list[bytes] = []
    while len(encoded) > room:
        cut = charCut(encoded, room)
        space = encoded.rfind(b" ", max(cut - SPACE_WINDOW, 1), cut)
        if space > 0:
            cut = space + 1
        pieces.append(encoded[:cut])
        encoded = encoded[cut:]
    pieces.append(encoded)
    return [piece.decode("utf-8") for piece in pieces]


def fitTags(tags: bytes) -> bytes:
    """
    A tag section (its C{@} included) within L{MAX_TAGS} with the space
    after it: client-only tags (C{+name}) go first, then the last ones.
    """
    if len(tags) + 1 <= MAX_TAGS:
        return tags
    items = tags[1:].split(b";")
    for clientOnly in (True, False):
        for item in reversed(list(items)):
            if len(b";".join(items)) + 2 <= MAX_TAGS:
                break
            if item.startswith(b"+") or not clientOnly:
                items.remove(item)
    return b"@" + b";".join(items) if items else b""


def fit(line: bytes) -> bytes:
    """
    C{line} (formatted, terminator excluded) as it may go to a client: a
    body (tags aside) over 510 bytes is cut at a character boundary, which
    shortens its trailing parameter, where a line's free text is (a reason,
    an away message, a real name); a tag section over L{MAX_TAGS} loses
    tags. Every line the door writes goes through here, so none is longer
    than a client may read; messages are split before (L{splitText}) and
    arrive whole.
    """
    room = MAX_BODY - 2
    if len(line) <= room:
        return line
    tags, body = b"", line
    if line.startswith(b"@"):
        tags, _, body = line.partition(b" ")
        tags = fitTags(tags)
    if len(body) > room:
        body = body[: charCut(body, room)]
    return tags + b" " + body if tags else body


class LineBuffer:
    """
    Cuts a byte stream into lines, as they come: each whole line goes to
    C{line}, each over-long one to C{overflow} (once, when it is known).
    """

    __slots__ = ("_buffer", "_line", "_overflow", "_skipping")

    def __init__(self, line: Callable[[bytes], None], overflow: Callable[[], None]) -> None:
        self._line = line
        self._overflow = overflow
        self._buffer = b""
        self._skipping = False

    def rest(self) -> None:
        """
        The input ended: an unterminated last line is a line all the same
        (the peer chose to end there); inside an over-long one, nothing is.
        """
        rest, self._buffer = self._buffer, b""
        if rest.strip() and not self._skipping:
            self._line(rest.removesuffix(b"\r"))

    def feed(self, data: bytes) -> None:
        buffer = self._buffer + data
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            line = buffer[start:end]
            start = end + 1
            if self._skipping:
                self._skipping = False
                continue
            if line.endswith(b"\r"):
                line = line[:-1]
            if tooLong(line):
                self._overflow()
            else:
                self._line(line)
        rest = buffer[start:]
        if len(rest) > MAX_LINE:
            if not self._skipping:
                self._overflow()
            self._skipping = True
            rest = b""
        elif self._skipping:
            rest = b""
        self._buffer = rest
