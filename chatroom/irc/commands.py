"""
IRC commands as the room's frames: each line of a registered client (and
the few allowed before) is turned into one or more frames, sent one after
the other, each once the room answered the one before.

Commands the room has no verb for (C{MOTD}, C{AWAY}, C{MODE}, C{CAP}, and
C{PING}, whose token may hold spaces) still pass one frame, C{C PING}, and
are answered when its C{C PONG} comes: so every line counts against the
room's rate limit and is answered in its turn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from irctokens.line import Line

from chatroom import codec
from chatroom.codec import Frame
from chatroom.irc import registration, wire
from chatroom.irc.directory import maskOf
from chatroom.names import caseless

if TYPE_CHECKING:
    from chatroom.irc.door import IRCConnection

#: One user of the room: name, transport, staff (channel operator).
User = tuple[str, str, bool]

#: The room's verbs of section 11, as IRC commands of the same names.
MODERATION = ("BAN", "UNBAN", "MUTE", "UNMUTE", "SLOW", "ROLE", "BANS")

BEFORE = frozenset({"CAP", "NICK", "USER", "PASS", "AUTHENTICATE", "PING", "PONG", "QUIT"})


def dispatch(connection: IRCConnection, line: Line) -> None:
    command, params = line.command, line.params
    registered = connection.stage.name == "REGISTERED"
    if command == "PONG":
        return
    if command == "QUIT":
        if connection.entry is not None:
            connection.entry.quit = params[0] if params else ""
        connection.toRoom(codec.command("EX"), lambda frame: True)
        return
    if not registered and command not in BEFORE:
        barrier(connection, lambda: connection.numeric("451", "You have not registered"))
        return
    tagged = TAGGED.get(command)
    if tagged is not None:
        tagged(connection, params, line.tags)  # their client-only tags are relayed
        return
    handler = HANDLERS.get(command)
    if handler is None:
        barrier(connection, lambda: connection.numeric("421", command, "Unknown command"))
        return
    handler(connection, params)


def barrier(connection: IRCConnection, then: Callable[[], None]) -> None:
    """
    Pass one frame through the room (counted by its rate limit), then
    answer locally with C{then}.
    """

    def answered(frame: Frame) -> bool:
        if frame.verb == "PONG":
            then()
        elif frame.verb == "ERR":
            notice(connection, frame.rest)
        return True

    connection.toRoom(codec.command("PING"), answered)


def notice(connection: IRCConnection, text: str) -> None:
    server = connection.factory.serverName
    connection.send(wire.format("NOTICE", [connection.me, text], server))


def users(
    connection: IRCConnection, then: Callable[[list[User]], None], always: bool = False
) -> None:
    """
    Ask the room who is online (C{C WHO}), then call C{then} with them.

    @param always: call C{then} (with nobody) even if the room refuses.
    """
    found: list[User] = []

    def answered(frame: Frame) -> bool:
        if frame.verb == "ERR":
            notice(connection, frame.rest)
            if always:
                then([])
            return True
        if frame.verb != "USERS":
            return False
        entries = frame.rest.split(" ") if frame.rest else []
        more = bool(entries) and entries[0] == codec.CONTINUED
        for entry in entries[1:] if more else entries:
            name, _, transport = entry.rpartition(":")
            staff = name.startswith("@")
            found.append((name.lstrip("@"), transport, staff))
        if more:
            return False
        then(found)
        return True

    connection.toRoom(codec.command("WHO"), answered)


def inChannel(connection: IRCConnection, user: User) -> bool:
    """
    Whether a room user is in the channel: IRC users of this node once they
    joined it, everyone else always.
    """
    entry = connection.factory.directory.get(user[0]) if user[1] == "IRC" else None
    return entry is None or entry.joined


def nameOf(connection: IRCConnection, user: User) -> str:
    name = user[0]
    if "userhost-in-names" in connection.caps:
        name = maskOf(connection.factory.directory, name, user[1])
    return ("@" if user[2] else "") + name


# Registration and the session.


def ping(connection: IRCConnection, params: list[str]) -> None:
    if not params:
        barrier(connection, lambda: connection.numeric("409", "No origin specified"))
        return
    server = connection.factory.serverName
    barrier(connection, lambda: connection.send(wire.format("PONG", [server, params[0]], server)))


def local(
    handler: Callable[[IRCConnection, list[str]], None],
) -> Callable[[IRCConnection, list[str]], None]:
    def counted(connection: IRCConnection, params: list[str]) -> None:
        barrier(connection, lambda: handler(connection, params))

    return counted


def again(connection: IRCConnection, params: list[str]) -> None:
    connection.numeric("462", "You may not reregister")


def nickAfter(connection: IRCConnection, params: list[str]) -> None:
    if params and connection.nick is not None and caseless(params[0]) == caseless(connection.nick):
        return
    connection.numeric("447", "Nicknames cannot change: your nickname is your account")


# The channel.


def join(connection: IRCConnection, params: list[str]) -> None:
    if not params:
        connection.numeric("461", "JOIN", "Not enough parameters")
        return
    channel = connection.factory.channel
    for wanted in params[0].split(","):
        if wanted == "0":
            part(connection, [channel])
        elif caseless(wanted) != caseless(channel):
            connection.numeric("403", wanted, f"No such channel: this server has only {channel}")
        elif not connection.joined:
            connection.joined = True
            if connection.entry is not None:
                connection.entry.joined = True
            line = wire.format("JOIN", [channel], connection.mask)
            connection.send(line)
            connection.factory.directory.tell(line, connection.entry)  # type: ignore[arg-type]
            users(connection, lambda found: namesReply(connection, found))


def part(connection: IRCConnection, params: list[str]) -> None:
    if not params:
        connection.numeric("461", "PART", "Not enough parameters")
        return
    channel = connection.factory.channel
    for wanted in params[0].split(","):
        if caseless(wanted) != caseless(channel):
            connection.numeric("403", wanted, "No such channel")
        elif not connection.joined:
            connection.numeric("442", channel, "You're not on that channel")
        else:
            line = wire.format("PART", [channel, *params[1:2]], connection.mask)
            connection.send(line)
            connection.factory.directory.tell(line, connection.entry)  # type: ignore[arg-type]
            connection.joined = False
            if connection.entry is not None:
                connection.entry.joined = False


def namesReply(connection: IRCConnection, found: list[User]) -> None:
    channel = connection.factory.channel
    present = [nameOf(connection, user) for user in found if inChannel(connection, user)]
    prefix = len(wire.format("353", [connection.me, "=", channel, ""], "x" * 64))
    line: list[str] = []
    for name in present:
        if line and prefix + len(" ".join([*line, name]).encode()) > wire.MAX_BODY - 2:
            connection.numeric("353", "=", channel, " ".join(line))
            line = []
        line.append(name)
    if line:
        connection.numeric("353", "=", channel, " ".join(line))
    connection.numeric("366", channel, "End of /NAMES list")


def names(connection: IRCConnection, params: list[str]) -> None:
    channel = connection.factory.channel
    if params and caseless(params[0]) != caseless(channel):
        barrier(connection, lambda: connection.numeric("366", params[0], "End of /NAMES list"))
        return
    users(connection, lambda found: namesReply(connection, found))


from chatroom.irc.history import chathistory  # noqa: E402
from chatroom.irc.messages import noticeCommand, privmsg, tagmsg  # noqa: E402
from chatroom.irc.queries import (  # noqa: E402 - they use the helpers above
    away,
    ison,
    kick,
    lusers,
    mode,
    moderate,
    motd,
    topic,
    userhost,
    who,
    whois,
)

__all__ = ["lusers", "motd"]

HANDLERS: dict[str, Callable[[IRCConnection, list[str]], None]] = {
    "CAP": local(registration.cap),
    "NICK": local(
        lambda c, p: registration.nick(c, p) if c.stage.name == "REGISTERING" else nickAfter(c, p)
    ),
    "USER": local(
        lambda c, p: registration.user(c, p) if c.stage.name == "REGISTERING" else again(c, p)
    ),
    "PASS": local(
        lambda c, p: registration.password(c, p) if c.stage.name == "REGISTERING" else again(c, p)
    ),
    "AUTHENTICATE": local(registration.authenticate),
    "PING": ping,
    "JOIN": local(join),
    "PART": local(part),
    "NAMES": names,
    "WHO": who,
    "WHOIS": whois,
    "ISON": ison,
    "USERHOST": userhost,
    "LUSERS": lambda c, p: lusers(c, lambda: None),
    "MOTD": local(lambda c, p: motd(c)),
    "AWAY": local(away),
    "MODE": local(mode),
    "TOPIC": local(topic),
    "KICK": kick,
    "CHATHISTORY": chathistory,
    **{verb: moderate(verb) for verb in MODERATION},
}

#: Commands whose line's tags matter (IRCv3 message-tags: client-only tags).
TAGGED: dict[str, Callable[[IRCConnection, list[str], Mapping[str, str] | None], None]] = {
    "PRIVMSG": privmsg,
    "NOTICE": noticeCommand,
    "TAGMSG": tagmsg,
}
