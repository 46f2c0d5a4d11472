"""
The room's frames as IRC lines: what an IRC user sees of everyone else.

Public messages become C{PRIVMSG} (or C{NOTICE}, or a CTCP C{ACTION}) to
the channel from C{name!TRANSPORT@TRANSPORT} (from C{nick!user@host} for
IRC users of this node), direct messages and stored ones C{PRIVMSG} to the
nick, arrivals and departures C{JOIN} and C{QUIT}, moderation C{KICK},
C{MODE} and notices. Tags go only to clients that asked for them (msgid and
an IRC sender's client-only tags: L{chatroom.irc.tags}).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chatroom.codec import Frame
from chatroom.irc import wire
from chatroom.irc.directory import maskOf
from chatroom.irc.tags import said, withMessageTags

if TYPE_CHECKING:
    from chatroom.irc.door import IRCConnection

#: Why a user left, as an IRC QUIT says it.
QUITS = {
    "EXIT": "Quit",
    "CLOSED": "Connection closed",
    "TIMEOUT": "Ping timeout",
    "DROPPED": "Excess flood",
    "REPLACED": "Replaced by a new login",
    "SHUTDOWN": "Server shutting down",
}

#: Why the server ended this connection, as its ERROR says it.
BYES = {
    "EXIT": "Quit",
    "SHUTDOWN": "Server shutting down",
    "REPLACED": "Logged in again elsewhere",
    "KICKED": "Kicked from the room",
    "BANNED": "Banned from the room",
}

ACTION = "/me "


def stamp(seconds: float) -> str:
    """
    A time as IRCv3 C{server-time} writes it (RFC 3339, milliseconds, UTC).
    """
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tagsFor(
    connection: IRCConnection, account: str | None, when: str | None = None
) -> dict[str, str]:
    tags: dict[str, str] = {}
    if "server-time" in connection.caps:
        tags["time"] = when or connection.factory.now()
    if account is not None and "account-tag" in connection.caps and connection.factory.accounts:
        tags["account"] = account
    return tags


def deliver(
    connection: IRCConnection,
    source: str,
    command: str,
    target: str,
    text: str,
    tags: dict[str, str],
    reply: bool = False,
) -> None:
    """
    Send a message as one line, or as several when it is longer than a
    line may be, cut between characters; C{/me} shows as a CTCP action.
    """
    key = (source, command, target, text, tuple(tags.items()))
    made = connection.factory.lines.get(key)
    if made is None:
        made = connection.factory.lines[key] = lines(source, command, target, text, tags)
    for line in made:
        if reply:
            connection.send(line)  # an echo: part of the answer to a labeled line
        else:
            connection.push(line)


def lines(source: str, command: str, target: str, text: str, tags: dict[str, str]) -> list[bytes]:
    """
    A message as the lines that carry it (see L{deliver}).
    """
    made = []
    action = text.startswith(ACTION)
    if action:
        text = text[len(ACTION) :]
    # The body (tags aside) of each line, its terminator included, fits in 512 bytes.
    room = wire.MAX_BODY - 2 - len(wire.format(command, [target, ""], source))
    if action:
        room -= len("\x01ACTION \x01")
    for piece in wire.splitText(text, room):
        body = f"\x01ACTION {piece}\x01" if action else piece
        made.append(wire.format(command, [target, body], source, tags or None))
    return made


def oneLine(connection: IRCConnection, command: str, target: str, text: str) -> bool:
    """
    Whether a message from C{connection} to C{target} goes to the other IRC
    users as one line, from its C{nick!user@host}: a longer one is refused
    (C{417}) rather than split, so that what an IRC user sends is what the
    others, and its own echo, show line for line (IRC clients cut a long
    text themselves, knowing their own mask); longer messages from other
    doors are split.
    """
    return len(lines(connection.mask, command, target, text, {})) == 1


def publicLines(connection: IRCConnection, frame: Frame) -> list[bytes]:
    """
    A public message (C{D PM}) as the lines that carry it to C{connection}.
    """
    parts = frame.rest.split(" ", 3)
    if len(parts) < 4:
        return []
    _, name, transport, text = parts
    directory = connection.factory.directory
    record = said(directory, name, transport, text)  # an IRC user's, with its tags
    command = record.command if record is not None else "PRIVMSG"
    source = maskOf(directory, name, transport)
    tags = withMessageTags(connection, tagsFor(connection, name), record)
    return lines(source, command, connection.factory.channel, text, tags)


def translate(connection: IRCConnection, frame: Frame) -> None:
    """
    Show the room's frame (one that answers nothing the client asked) to
    the IRC client.
    """
    factory = connection.factory
    channel = factory.channel
    directory = factory.directory
    if frame.kind == "D":
        parts = frame.rest.split(" ", 4)
        kind = parts[0]
        if kind == "PM" and connection.joined:
            # A broadcast: the same lines for every recipient with the same tags.
            caps = connection.caps
            key = ("PM", "server-time" in caps, "account-tag" in caps, "message-tags" in caps)
            made = factory.lines.get(key)
            if made is None:
                made = factory.lines[key] = publicLines(connection, frame)
            for line in made:
                connection.push(line)
        elif kind == "DM" and len(parts) >= 4:
            _, name, transport, *rest = frame.rest.split(" ", 3)
            text = rest[0] if rest else ""
            source = maskOf(directory, name, transport)
            record = said(directory, name, transport, text)
            tags = withMessageTags(connection, tagsFor(connection, name), record)
            command = record.command if record is not None else "PRIVMSG"
            deliver(connection, source, command, connection.me, text, tags)
        elif kind == "INBOX" and len(parts) >= 5:
            _, when, name, transport, text = parts
            tags = withMessageTags(connection, tagsFor(connection, name, when), None)
            source = maskOf(directory, name, transport)
            deliver(connection, source, "PRIVMSG", connection.me, text, tags)
        return
    verb = frame.verb
    words = frame.rest.split(" ")
    if verb == "JOIN" and len(words) >= 2 and connection.joined:
        name, transport = words[0], words[1]
        if transport == "IRC" and directory.get(name) is not None:
            return  # shown when that user joins the channel
        connection.push(wire.format("JOIN", [channel], maskOf(directory, name, transport)))
    elif verb == "LEAVE" and len(words) >= 3 and connection.joined:
        name, transport, reason = words[0], words[1], words[2]
        if name in connection.kicked:
            connection.kicked.discard(name)
            return
        entry = directory.get(name) if transport == "IRC" else None
        if entry is not None and not entry.joined:
            return
        why = QUITS.get(reason, reason)
        if entry is not None and entry.quit is not None:
            why = f"Quit: {entry.quit}" if entry.quit else "Quit"
        connection.push(wire.format("QUIT", [why], maskOf(directory, name, transport)))
    elif verb == "MOD" and len(words) >= 4:
        moderation(connection, words[0], words[1], words[2], words[3], " ".join(words[4:]))
    elif verb == "BYE":
        why = BYES.get(frame.rest, frame.rest)
        entry = connection.entry
        if frame.rest == "EXIT" and entry is not None and entry.quit:
            why = f"Quit: {entry.quit}"
        connection.fail(why)
    elif verb == "ERR":
        code, _, text = frame.rest.partition(" ")
        if code in ("FULL", "STATE") or (code == "RATE" and "goodbye" in text):
            connection.fail(text or code)
            return
        connection.push(
            wire.format("NOTICE", [connection.me, f"{code}: {text}"], factory.serverName)
        )


def moderation(
    connection: IRCConnection, action: str, name: str, by: str, until: str, reason: str
) -> None:
    """
    A moderation notice (C{C MOD}) as IRC shows it: a kick or ban as
    C{KICK}, a role as C{MODE +o}/C{-o}, the rest as a server notice.
    """
    factory = connection.factory
    channel = factory.channel
    server = factory.serverName
    if action in ("KICK", "BAN"):
        if connection.joined or name == connection.account:
            why = reason or ("banned" if action == "BAN" else "kicked")
            if action == "BAN" and until != "-":
                why = f"{why} (banned until {until})"
            entry = factory.directory.get(by)
            source = entry.mask if entry is not None else by or server
            connection.push(wire.format("KICK", [channel, name, why], source))
            connection.kicked.add(name)
        return
    if action == "ROLE":
        sign = "-o" if until == "user" else "+o"
        if connection.joined:
            connection.push(wire.format("MODE", [channel, sign, name], server))
        return
    if action == "SLOW":
        text = (
            f"{by} set slow mode: one message per {name} s"
            if name != "0"
            else (f"{by} turned slow mode off")
        )
    else:
        ends = "" if until == "-" else f" until {until}"
        text = f"{by}: {action} {name}{ends}" + (f" ({reason})" if reason else "")
    target = channel if connection.joined else connection.me
    connection.push(wire.format("NOTICE", [target, text], server))
