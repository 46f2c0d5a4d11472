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

from collections.abc import Callable
from typing import TYPE_CHECKING

from irctokens.line import Line

from chatroom import codec
from chatroom.codec import Frame
from chatroom.irc import registration, wire
from chatroom.irc.directory import maskOf
from chatroom.irc.mapping import ACTION, tagsFor
from chatroom.names import caseless

if TYPE_CHECKING:
    from chatroom.irc.door import IRCConnection

#: One user of the room: name, transport, staff (channel operator).
User = tuple[str, str, bool]

#: The room's verbs of section 11, as IRC commands of the same names.
MODERATION = ("BAN", "UNBAN", "MUTE", "UNMUTE", "SLOW", "ROLE", "BANS")

BEFORE = frozenset({"CAP", "NICK", "USER", "PASS", "AUTHENTICATE", "PING", "PONG", "QUIT"})

FORMATTING = str.maketrans("", "", "\x02\x0f\x16\x1d\x1e\x1f\x11")


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


def users(connection: IRCConnection, then: Callable[[list[User]], None]) -> None:
    """
    Ask the room who is online (C{C WHO}), then call C{then} with them.
    """
    found: list[User] = []

    def answered(frame: Frame) -> bool:
        if frame.verb == "ERR":
            notice(connection, frame.rest)
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
    if connection.stage.name == "REGISTERED":
        connection.numeric("462", "You may not reregister")
        return
    if params and params[0] == "":
        return


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


# Messages.


def message(connection: IRCConnection, params: list[str], notice: bool = False) -> None:
    command = "NOTICE" if notice else "PRIVMSG"
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
    if target.startswith("#"):
        if caseless(target) != caseless(channel):
            connection.numeric("403", target, "No such channel")
        elif not connection.joined:
            connection.numeric("404", channel, "Cannot send to channel: join it first")
        else:
            public(connection, command, text)
        return
    direct(connection, command, target, text)


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
        from chatroom.irc.mapping import deliver

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
    def sent(frame: Frame) -> bool:
        if frame.verb == "OK":
            echo(connection, command, target, text)
        elif frame.verb == "ERR":
            refusedMessage(connection, target, frame.rest)
        return True

    def listed(frame: Frame) -> bool:
        if frame.verb == "USERS":
            if frame.rest.startswith(codec.CONTINUED + " "):
                return False
            connection.toRoom(codec.data(target, text), sent)
        elif frame.verb == "ERR":
            refusedMessage(connection, target, frame.rest)
        return True

    connection.toRoom(codec.command("DM"), listed)


def privmsg(connection: IRCConnection, params: list[str]) -> None:
    message(connection, params)


def noticeCommand(connection: IRCConnection, params: list[str]) -> None:
    message(connection, params, notice=True)


from chatroom.irc.history import chathistory  # noqa: E402
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
    "TAGMSG": local(lambda c, p: None),  # client-only tags (typing...): not relayed
    "JOIN": local(join),
    "PART": local(part),
    "PRIVMSG": privmsg,
    "NOTICE": noticeCommand,
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
