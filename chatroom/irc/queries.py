"""
IRC's questions about users (C{WHO}, C{WHOIS}, C{ISON}, C{USERHOST},
C{LUSERS}), the few commands about the connection itself (C{MOTD},
C{AWAY}, C{MODE}, C{TOPIC}) and moderation (C{KICK} and section 11's verbs
as commands of the same names), answered from the room's user list and
verbs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import TYPE_CHECKING

from chatroom import codec
from chatroom.codec import Frame
from chatroom.irc import wire
from chatroom.irc.directory import Entry
from chatroom.names import caseless

if TYPE_CHECKING:
    from chatroom.irc.door import IRCConnection

MOTD = (
    "This IRC server is a door into a chatroom: one room, one channel.",
    "Your nickname is your account; people on TCP, UDP and the web are here too.",
)


def _commands():  # the module that imports this one
    from chatroom.irc import commands

    return commands


def who(connection: IRCConnection, params: list[str]) -> None:
    c = _commands()
    mask = params[0] if params else "*"
    factory = connection.factory
    channel = factory.channel

    def reply(found: list[tuple[str, str, bool]]) -> None:
        for user in found:
            name, transport, staff = user
            if caseless(mask) == caseless(channel):
                if not c.inChannel(connection, user):
                    continue
            elif not fnmatch.fnmatchcase(caseless(name), caseless(mask)):
                continue
            entry = factory.directory.get(name) if transport == "IRC" else None
            if entry is not None and hidden(connection, entry, mask, user):
                continue
            username = entry.user if entry else transport
            host = entry.host if entry else transport
            real = entry.realname if entry else f"on {transport}"
            flags = ("G" if entry and entry.away else "H") + ("@" if staff else "")
            where = channel if c.inChannel(connection, user) else "*"
            connection.numeric(
                "352", where, username, host, factory.serverName, name, flags, f"0 {real}"
            )
        connection.numeric("315", mask, "End of /WHO list")

    c.users(connection, reply)


def hidden(connection: IRCConnection, entry: Entry, mask: str, user: tuple[str, str, bool]) -> bool:
    """
    Whether C{WHO mask} leaves out C{entry}: an invisible user (C{+i}) shows
    to a wildcard only for itself and for those who share the channel with
    it; asked for by its exact nickname it always shows.
    """
    if not entry.invisible or entry is connection.entry or not set("*?") & set(mask):
        return False
    return not (connection.joined and _commands().inChannel(connection, user))


def whois(connection: IRCConnection, params: list[str]) -> None:
    c = _commands()
    if not params:
        c.barrier(connection, lambda: connection.numeric("431", "No nickname given"))
        return
    wanted = params[-1]
    factory = connection.factory

    def reply(found: list[tuple[str, str, bool]]) -> None:
        for user in found:
            name, transport, staff = user
            if caseless(name) != caseless(wanted):
                continue
            entry = factory.directory.get(name) if transport == "IRC" else None
            username = entry.user if entry else transport
            host = entry.host if entry else transport
            real = entry.realname if entry else f"on {transport}"
            connection.numeric("311", name, username, host, "*", real)
            if c.inChannel(connection, user):
                connection.numeric("319", name, ("@" if staff else "") + factory.channel)
            connection.numeric("312", name, factory.serverName, f"connected via {transport}")
            if entry is not None and entry.away:
                connection.numeric("301", name, entry.away)
            if factory.accounts:
                connection.numeric("330", name, name, "is logged in as")
            connection.numeric("318", name, "End of /WHOIS list")
            return
        connection.numeric("401", wanted, "No such nick/channel")
        connection.numeric("318", wanted, "End of /WHOIS list")

    c.users(connection, reply)


def ison(connection: IRCConnection, params: list[str]) -> None:
    c = _commands()
    if not params:
        c.barrier(connection, lambda: connection.numeric("461", "ISON", "Not enough parameters"))
        return
    asked = " ".join(params).split()

    def reply(found: list[tuple[str, str, bool]]) -> None:
        online = {caseless(user[0]): user[0] for user in found}
        present = [online[caseless(n)] for n in asked if caseless(n) in online]
        connection.numeric("303", " ".join(present))

    c.users(connection, reply)


def userhost(connection: IRCConnection, params: list[str]) -> None:
    c = _commands()
    if not params:
        c.barrier(
            connection, lambda: connection.numeric("461", "USERHOST", "Not enough parameters")
        )
        return
    factory = connection.factory

    def reply(found: list[tuple[str, str, bool]]) -> None:
        online = {caseless(user[0]): user for user in found}
        out = []
        for asked in params[:5]:
            user = online.get(caseless(asked))
            if user is None:
                continue
            name, transport, staff = user
            entry = factory.directory.get(name) if transport == "IRC" else None
            away = "-" if entry and entry.away else "+"
            who = f"{entry.user}@{entry.host}" if entry else f"{transport}@{transport}"
            out.append(f"{name}{'*' if staff else ''}={away}{who}")
        connection.numeric("302", " ".join(out))

    c.users(connection, reply)


def lusers(connection: IRCConnection, then: Callable[[], None]) -> None:
    c = _commands()

    def reply(found: list[tuple[str, str, bool]]) -> None:
        count = len(found)
        staff = sum(1 for user in found if user[2])
        invisible = sum(1 for entry in connection.factory.directory if entry.invisible)
        visible = count - invisible
        connection.numeric(
            "251", f"There are {visible} users and {invisible} invisible on 1 servers"
        )
        connection.numeric("252", str(staff), "operator(s) online")
        connection.numeric("254", "1", "channels formed")
        connection.numeric("255", f"I have {count} clients and 0 servers")
        connection.numeric("265", str(count), str(count), f"Current local users {count}")
        connection.numeric("266", str(count), str(count), f"Current global users {count}")
        then()

    c.users(connection, reply, always=True)


def motd(connection: IRCConnection) -> None:
    server = connection.factory.serverName
    connection.numeric("375", f"- {server} Message of the day - ")
    for line in MOTD:
        connection.numeric("372", f"- {line}")
    connection.numeric("376", "End of /MOTD command.")


def away(connection: IRCConnection, params: list[str]) -> None:
    entry = connection.entry
    text = params[0] if params else ""
    if entry is not None:
        entry.away = text[:390] or None
    if text:
        connection.numeric("306", "You have been marked as being away")
    else:
        connection.numeric("305", "You are no longer marked as being away")


def mode(connection: IRCConnection, params: list[str]) -> None:
    channel = connection.factory.channel
    if not params:
        connection.numeric("461", "MODE", "Not enough parameters")
    elif caseless(params[0]) == caseless(channel):
        if len(params) == 1:
            connection.numeric("324", channel, "+nt")
        elif params[1].lstrip("+") == "b":
            connection.numeric("368", channel, "End of channel ban list")
        else:
            connection.numeric(
                "482", channel, "Modes are the room's: use KICK, BAN, MUTE, SLOW, ROLE"
            )
    elif connection.nick is not None and caseless(params[0]) == caseless(connection.nick):
        entry = connection.entry
        if len(params) == 1:
            connection.numeric("221", "+i" if entry is not None and entry.invisible else "+")
        elif entry is not None:
            userMode(connection, entry, params[1])
    elif params[0].startswith("#"):
        connection.numeric("403", params[0], "No such channel")
    else:
        connection.numeric("502", "Can't change mode for other users")


def userMode(connection: IRCConnection, entry: Entry, change: str) -> None:
    """
    C{MODE nick +i} or C{-i}: the one user mode that changes anything here
    (C{WHO} masks); others (C{+w}, C{+x}) are accepted and ignored, as
    C{004} lists only C{i}.
    """
    adding = True
    before = entry.invisible
    for letter in change:
        if letter in "+-":
            adding = letter == "+"
        elif letter == "i":
            entry.invisible = adding
    if entry.invisible != before:
        sign = "+i" if entry.invisible else "-i"
        connection.send(wire.format("MODE", [connection.me, sign], connection.mask))


def topic(connection: IRCConnection, params: list[str]) -> None:
    channel = connection.factory.channel
    if params and caseless(params[0]) == caseless(channel):
        connection.numeric("331", channel, "No topic is set")
    else:
        connection.numeric("403", params[0] if params else "*", "No such channel")


def moderated(connection: IRCConnection, verb: str, target: str) -> Callable[[Frame], bool]:
    """
    The answer to a moderation verb: C{C MOD} (sent to everyone) says it was
    done; only refusals, and C{C BANS}' list, are shown here.
    """
    channel = connection.factory.channel
    server = connection.factory.serverName

    def answered(frame: Frame) -> bool:
        if frame.verb == "ERR":
            code, _, text = frame.rest.partition(" ")
            if code == "DENIED":
                connection.numeric("482", channel, f"You're not channel operator: {text}")
            elif code == "NO_SUCH_USER":
                connection.numeric("401", target, "No such nick/channel")
            elif code == "BAD_FRAME":
                connection.numeric("461", verb, f"Not enough or bad parameters: {text}")
            else:
                connection.send(wire.format("NOTICE", [connection.me, frame.rest], server))
            return True
        if frame.verb == "BANS":
            return frame.rest.strip() == "0"
        if frame.kind == codec.DATA:
            connection.send(wire.format("NOTICE", [connection.me, frame.rest], server))
            return False
        return True

    return answered


def kick(connection: IRCConnection, params: list[str]) -> None:
    c = _commands()
    channel = connection.factory.channel
    if len(params) < 2:
        c.barrier(connection, lambda: connection.numeric("461", "KICK", "Not enough parameters"))
        return
    if caseless(params[0]) != caseless(channel):
        c.barrier(connection, lambda: connection.numeric("403", params[0], "No such channel"))
        return
    target = params[1].split(",")[0]
    frame = codec.command("KICK", target, *[p for p in params[2:3] if p])
    connection.toRoom(frame, moderated(connection, "KICK", target))


def moderate(verb: str) -> Callable[[IRCConnection, list[str]], None]:
    """
    Section 11's verb C{verb} as an IRC command with the same arguments.
    """

    def handler(connection: IRCConnection, params: list[str]) -> None:
        words = [p for p in params if p]
        if words and " " in words[-1]:
            pass  # a reason with spaces: sent as the frame's text
        frame = codec.command(verb, *words)
        target = words[0] if words else "*"
        if verb == "BANS":
            count: list[int] = []

            def listed(frame: Frame) -> bool:
                if frame.verb == "BANS":
                    count.append(int(frame.rest or 0))
                    server = connection.factory.serverName
                    connection.send(
                        wire.format(
                            "NOTICE", [connection.me, f"{frame.rest} bans and mutes"], server
                        )
                    )
                    return count[0] == 0
                if frame.kind == codec.DATA:
                    count[0] -= 1
                    server = connection.factory.serverName
                    connection.send(wire.format("NOTICE", [connection.me, frame.rest], server))
                    return count[0] <= 0
                return moderated(connection, verb, target)(frame)

            connection.toRoom(frame, listed)
            return
        connection.toRoom(frame, moderated(connection, verb, target))

    return handler
