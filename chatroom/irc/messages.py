"""
C{PRIVMSG} and C{NOTICE}, to the channel (the room's C{C PM}, then the
text) and to a nick (C{C DM}, then the target and the text), each frame
sent once the room answered the one before; CTCP C{ACTION} as C{/me},
IRC's formatting removed, echo-message's echo once the room accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from chatroom import codec
from chatroom.codec import Frame
from chatroom.irc import wire
from chatroom.irc.mapping import ACTION, deliver, oneLine, tagsFor
from chatroom.names import caseless

if TYPE_CHECKING:
    from chatroom.irc.door import IRCConnection

FORMATTING = str.maketrans("", "", "\x02\x0f\x16\x1d\x1e\x1f\x11")


def message(connection: IRCConnection, params: list[str], notice: bool = False) -> None:
    """
    C{PRIVMSG} or C{NOTICE}: a NOTICE never gets an error back (RFC 2812,
    3.3.2: no automatic reply to a notice, from servers either).
    """
    command = "NOTICE" if notice else "PRIVMSG"
    sender = connection  # 417 goes back even for a NOTICE: the line was too long
    if notice:
        connection = quiet(connection)
    if not params:
        connection.numeric("411", f"No recipient given ({command})")
        return
    if len(params) < 2 or not params[1]:
        connection.numeric("412", "No text to send")
        return
    target, text = params[0], params[1]
    if text.startswith("\x01"):
        body = text.strip("\x01")
        if not body.upper().startswith("ACTION "):
            return  # other CTCP requests are not relayed
        text = ACTION + body[len("ACTION ") :]
    text = stripFormatting(text)
    channel = connection.factory.channel
    if not oneLine(connection, command, channel if target.startswith("#") else target, text):
        sender.numeric("417", "Input line was too long: as relayed from you it exceeds 512 bytes")
        return
    if target.startswith("#"):
        if caseless(target) != caseless(channel):
            connection.numeric("403", target, "No such channel")
        elif not connection.joined:
            connection.numeric("404", channel, "Cannot send to channel: join it first")
        else:
            public(connection, command, text)
        return
    direct(connection, command, target, text)


class _Quiet:
    """
    A connection whose numerics (error replies) are dropped: for NOTICE.
    """

    def __init__(self, connection: IRCConnection) -> None:
        self._connection = connection

    def numeric(self, code: str, *params: str) -> None:
        pass

    def __getattr__(self, name: str) -> object:
        return getattr(self._connection, name)


def quiet(connection: IRCConnection) -> IRCConnection:
    return cast("IRCConnection", _Quiet(connection))


def stripFormatting(text: str) -> str:
    """
    IRC's bold, colours and the like removed: the room refuses control
    characters (they would reach terminals).
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\x03":
            i += 1
            for _ in range(2):
                if i < len(text) and text[i].isdigit():
                    i += 1
            if i + 1 < len(text) and text[i] == "," and text[i + 1].isdigit():
                i += 2
                if i < len(text) and text[i].isdigit():
                    i += 1
            continue
        if char == "\x04":
            i += 7
            continue
        out.append(char)
        i += 1
    return "".join(out).translate(FORMATTING)


def echo(connection: IRCConnection, command: str, target: str, text: str) -> None:
    if "echo-message" in connection.caps:
        tags = tagsFor(connection, connection.account)
        deliver(connection, connection.mask, command, target, text, tags, reply=True)


def refusedMessage(connection: IRCConnection, target: str, rest: str) -> None:
    code, _, text = rest.partition(" ")
    if code == "NO_SUCH_USER":
        connection.numeric("401", target, "No such nick/channel")
    elif code == "BAD_TEXT":
        connection.numeric("412", "No text to send")
    else:
        connection.numeric("404", target, f"Cannot send: {code} {text}".strip())


def public(connection: IRCConnection, command: str, text: str) -> None:
    channel = connection.factory.channel
    entry = connection.entry

    def sent(frame: Frame) -> bool:
        if entry is not None:
            entry.notice = None
        if frame.verb == "OK":
            echo(connection, command, channel, text)
        elif frame.verb == "ERR":
            refusedMessage(connection, channel, frame.rest)
        return True

    def acked(frame: Frame) -> bool:
        if frame.verb == "ACK":
            if entry is not None:
                entry.notice = text if command == "NOTICE" else None
            connection.toRoom(codec.data(text), sent)
        elif frame.verb == "ERR":
            refusedMessage(connection, channel, frame.rest)
        return True

    connection.toRoom(codec.command("PM"), acked)


def direct(connection: IRCConnection, command: str, target: str, text: str) -> None:
    entry = connection.entry

    def sent(frame: Frame) -> bool:
        if entry is not None:
            entry.notice = None
        if frame.verb == "OK":
            echo(connection, command, target, text)
            words = frame.rest.split(" ")
            if words[-1] == "STORED":
                # Kept for an offline user (protocol 1.1): say so, as C OK DM … STORED does.
                name = words[1] if len(words) > 2 else target
                said = f"{name} is offline: the message is kept for their next login"
                connection.send(wire.format("NOTICE", [connection.me, said], server))
        elif frame.verb == "ERR":
            refusedMessage(connection, target, frame.rest)
        return True

    server = connection.factory.serverName

    def listed(frame: Frame) -> bool:
        if frame.verb == "USERS":
            if frame.rest.startswith(codec.CONTINUED + " "):
                return False
            if entry is not None:
                # The room has no NOTICE: the recipient's door shows one by this mark.
                entry.notice = text if command == "NOTICE" else None
            connection.toRoom(codec.data(target, text), sent)
        elif frame.verb == "ERR":
            refusedMessage(connection, target, frame.rest)
        return True

    connection.toRoom(codec.command("DM"), listed)


def privmsg(connection: IRCConnection, params: list[str]) -> None:
    message(connection, params)


def noticeCommand(connection: IRCConnection, params: list[str]) -> None:
    message(connection, params, notice=True)
