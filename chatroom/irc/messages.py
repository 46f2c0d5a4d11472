"""
C{PRIVMSG} and C{NOTICE}, to the channel (the room's C{C PM}, then the
text) and to a nick (C{C DM}, then the target and the text), each frame
sent once the room answered the one before; CTCP C{ACTION} as C{/me},
IRC's formatting removed, echo-message's echo once the room accepted.

Each message gets a msgid and keeps its client-only tags for the IRC users
of this listener (the sender's L{Said} record on its directory entry, see
L{chatroom.irc.tags} for why a side path); C{TAGMSG}, which has no text,
goes from the directory to them only, never through the room.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from chatroom import codec
from chatroom.codec import Frame
from chatroom.irc import wire
from chatroom.irc.directory import Entry
from chatroom.irc.mapping import ACTION, deliver, oneLine, stamp, tagsFor
from chatroom.irc.tags import Said, clientTags, withMessageTags
from chatroom.names import caseless

if TYPE_CHECKING:
    from chatroom.irc.door import IRCConnection

FORMATTING = str.maketrans("", "", "\x02\x0f\x16\x1d\x1e\x1f\x11")


def message(
    connection: IRCConnection,
    params: list[str],
    notice: bool = False,
    tags: Mapping[str, str] | None = None,
) -> None:
    """
    C{PRIVMSG} or C{NOTICE}: a NOTICE never gets an error back (RFC 2812,
    3.3.2: no automatic reply to a notice, from servers either).

    @param tags: the line's tags (its client-only ones are relayed).
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
    msgid = connection.factory.directory.msgids.next()
    record = Said(command, text, msgid, clientTags(connection, tags))
    if target.startswith("#"):
        if canSpeak(connection, target):
            public(connection, record)
        return
    direct(connection, record, target)


def canSpeak(connection: IRCConnection, target: str) -> bool:
    """
    Whether C{target} is the room's channel and the sender is in it; if
    not, C{403} or C{404} says why.
    """
    channel = connection.factory.channel
    if caseless(target) != caseless(channel):
        connection.numeric("403", target, "No such channel")
        return False
    if not connection.joined:
        connection.numeric("404", channel, "Cannot send to channel: join it first")
        return False
    return True


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


def echo(connection: IRCConnection, record: Said, target: str) -> None:
    """
    echo-message's echo, part of the answer to the line (so labeled): with
    the msgid and client-only tags every IRC recipient got.
    """
    if "echo-message" in connection.caps:
        tags = withMessageTags(connection, tagsFor(connection, connection.account), record)
        command, text = record.command, record.text
        deliver(connection, connection.mask, command, target, text, tags, reply=True)


def leave(entry: Entry | None, record: Said) -> None:
    """
    Leave the message's record where the IRC recipients' mapping finds it,
    just before its text goes to the room (kept until the next message).
    """
    if entry is not None:
        entry.said = record


def refusedMessage(connection: IRCConnection, target: str, rest: str) -> None:
    code, _, text = rest.partition(" ")
    if code == "NO_SUCH_USER":
        connection.numeric("401", target, "No such nick/channel")
    elif code == "BAD_TEXT":
        connection.numeric("412", "No text to send")
    else:
        connection.numeric("404", target, f"Cannot send: {code} {text}".strip())


def public(connection: IRCConnection, record: Said) -> None:
    channel = connection.factory.channel
    entry = connection.entry

    def sent(frame: Frame) -> bool:
        if frame.verb == "OK":
            echo(connection, record, channel)
        elif frame.verb == "ERR":
            refusedMessage(connection, channel, frame.rest)
        return True

    def acked(frame: Frame) -> bool:
        if frame.verb == "ACK":
            leave(entry, record)
            connection.toRoom(codec.data(record.text), sent)
        elif frame.verb == "ERR":
            refusedMessage(connection, channel, frame.rest)
        return True

    connection.toRoom(codec.command("PM"), acked)


def direct(connection: IRCConnection, record: Said, target: str) -> None:
    entry = connection.entry

    def sent(frame: Frame) -> bool:
        if frame.verb == "OK":
            echo(connection, record, target)
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
            # The room has no NOTICE nor tags: the recipient's door finds them here.
            leave(entry, record)
            connection.toRoom(codec.data(target, record.text), sent)
        elif frame.verb == "ERR":
            refusedMessage(connection, target, frame.rest)
        return True

    connection.toRoom(codec.command("DM"), listed)


def privmsg(
    connection: IRCConnection, params: list[str], tags: Mapping[str, str] | None = None
) -> None:
    message(connection, params, tags=tags)


def noticeCommand(
    connection: IRCConnection, params: list[str], tags: Mapping[str, str] | None = None
) -> None:
    message(connection, params, notice=True, tags=tags)


def tagmsg(
    connection: IRCConnection, params: list[str], tags: Mapping[str, str] | None = None
) -> None:
    """
    C{TAGMSG}: client-only tags and no text (a reaction, typing), to the
    channel or a nick. Other doors could show nothing of it, so it never
    enters the room: after one frame through the room (counted by its rate
    limit, like every line) it goes from the directory to this listener's
    IRC users that negotiated message-tags (the joined ones, for the
    channel), with its msgid, and back to the sender with echo-message. A
    nick online on another door gets nothing; a nick nobody has gets 401.
    """
    from chatroom.irc.commands import barrier, users

    if not params or not params[0]:
        connection.numeric("461", "TAGMSG", "Not enough parameters")
        return
    target = params[0]
    factory = connection.factory
    directory = factory.directory
    record = Said("TAGMSG", "", directory.msgids.next(), clientTags(connection, tags))
    channel = factory.channel

    def joined() -> list[Entry]:
        return [e for e in directory if e.joined and e is not connection.entry]

    if target.startswith("#"):
        if canSpeak(connection, target):
            barrier(connection, lambda: relayTags(connection, record, channel, joined()))
        return
    entry = directory.get(target)
    if entry is not None:
        barrier(connection, lambda: relayTags(connection, record, entry.nick, [entry]))
        return

    def found(online: list[tuple[str, str, bool]]) -> None:
        if any(caseless(name) == caseless(target) for name, _, _ in online):
            relayTags(connection, record, target, [])  # not on IRC: only the echo
        else:
            connection.numeric("401", target, "No such nick/channel")

    users(connection, found)


def relayTags(connection: IRCConnection, record: Said, target: str, to: list[Entry]) -> None:
    """
    A C{TAGMSG} to the IRC users C{to} that negotiated message-tags, and
    its echo (part of the answer to the line, so labeled).
    """
    factory = connection.factory
    source = connection.mask
    now = stamp(factory.clock.seconds())
    for entry in to:
        caps = entry.peer.caps
        if "message-tags" not in caps:
            continue  # TAGMSG is only for clients that know tags
        tags = tagsOf(caps, now, connection, record)
        entry.peer.push(wire.format("TAGMSG", [target], source, tags))
    if {"echo-message", "message-tags"} <= connection.caps:
        tags = tagsOf(connection.caps, now, connection, record)
        connection.send(wire.format("TAGMSG", [target], source, tags))


def tagsOf(caps: set[str], now: str, sender: IRCConnection, record: Said) -> dict[str, str]:
    """
    A TAGMSG's tags for a recipient with capabilities C{caps}: server-time,
    account-tag, its msgid and its client-only tags.
    """
    tags: dict[str, str] = {}
    if "server-time" in caps:
        tags["time"] = now
    if sender.account is not None and "account-tag" in caps:
        tags["account"] = sender.account
    return {**tags, "msgid": record.msgid, **record.tags}
