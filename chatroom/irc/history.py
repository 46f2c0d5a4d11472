"""
IRCv3 C{draft/chathistory} backed by the room's history (C{C HISTORY}):
the channel's past public messages, on request only, never on join.

The room keeps public messages with their times and no message ids, so the
references are C{timestamp=} and C{*}; a nick's history is empty (direct
messages are not kept once handed over).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chatroom import codec
from chatroom.codec import Frame
from chatroom.irc import wire
from chatroom.irc.directory import maskOf
from chatroom.irc.mapping import lines
from chatroom.names import caseless

if TYPE_CHECKING:
    from chatroom.irc.door import IRCConnection

#: The most messages one request returns (ISUPPORT C{CHATHISTORY}).
MAX = 100

#: One past message: time, name, transport, text.
Said = tuple[str, str, str, str]


def fail(connection: IRCConnection, code: str, *words: str) -> None:
    server = connection.factory.serverName
    connection.send(wire.format("FAIL", ["CHATHISTORY", code, *words], server))


def reference(word: str) -> str | None:
    """
    A C{timestamp=} reference's time, C{""} for C{*}, L{None} if neither.
    """
    if word == "*":
        return ""
    if word.startswith("timestamp=") and len(word) > len("timestamp="):
        return word[len("timestamp=") :]
    return None


def chathistory(connection: IRCConnection, params: list[str]) -> None:
    sub = params[0].upper() if params else ""
    if sub not in ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN") or len(params) < 4:
        fail(connection, "INVALID_PARAMS", sub or "*", "Unknown or incomplete request")
        return
    target = params[1]
    refs = [reference(word) for word in params[2:-1]]
    try:
        limit = min(int(params[-1]), MAX)
    except ValueError:
        limit = -1
    if limit < 0 or any(ref is None for ref in refs) or (sub == "BETWEEN") != (len(refs) == 2):
        fail(connection, "INVALID_PARAMS", sub, "Bad references or limit")
        return
    channel = connection.factory.channel
    if caseless(target) != caseless(channel):
        reply(connection, target, [])  # direct messages are not kept
        return
    bounds = [ref or "" for ref in refs]

    def answered(said: list[Said]) -> None:
        reply(connection, channel, pick(sub, bounds, said, limit))

    past(connection, answered)


def pick(sub: str, bounds: list[str], said: list[Said], limit: int) -> list[Said]:
    """
    The messages a request asks for, oldest first.
    """
    if sub == "LATEST":
        since = bounds[0]
        chosen = [s for s in said if not since or s[0] > since]
        return chosen[-limit:] if limit else []
    if sub == "BEFORE":
        return [s for s in said if s[0] < bounds[0]][-limit:] if limit else []
    if sub == "AFTER":
        return [s for s in said if s[0] > bounds[0]][:limit]
    if sub == "AROUND":
        earlier = [s for s in said if s[0] < bounds[0]]
        later = [s for s in said if s[0] >= bounds[0]]
        half = limit // 2
        return earlier[len(earlier) - half :] + later[: limit - half] if half else later[:limit]
    low, high = sorted(bounds)
    return [s for s in said if low < s[0] < high][:limit]


def past(connection: IRCConnection, then: Callable[[list[Said]], None]) -> None:
    """
    Ask the room for its history (C{C HISTORY}), then call C{then} with it.
    """
    said: list[Said] = []
    expected: list[int] = []

    def answered(frame: Frame) -> bool:
        if frame.verb == "ERR":
            fail(connection, "MESSAGE_ERROR", "*", frame.rest)
            return True
        if frame.verb == "HISTORY":
            expected.append(int(frame.rest or 0))
        elif frame.kind == codec.DATA:
            parts = frame.rest.split(" ", 4)
            if len(parts) == 5:
                said.append((parts[1], parts[2], parts[3], parts[4]))
        else:
            return False
        if expected and len(said) >= expected[0]:
            then(said)
            return True
        return False

    connection.toRoom(codec.command("HISTORY"), answered)


def reply(connection: IRCConnection, target: str, said: list[Said]) -> None:
    """
    The messages in a C{chathistory} batch (plain lines without C{batch}).
    """
    factory = connection.factory
    server = factory.serverName
    batched = "batch" in connection.caps
    ref = ""
    if batched:
        connection.historyBatches += 1
        ref = f"H{connection.historyBatches}"
        connection.send(wire.format("BATCH", ["+" + ref, "chathistory", target], server))
    for when, name, transport, text in said:
        tags = {"time": when} if "server-time" in connection.caps else {}
        if "account-tag" in connection.caps and factory.accounts:
            tags["account"] = name
        if batched:
            tags["batch"] = ref
        source = maskOf(factory.directory, name, transport)
        for line in lines(source, "PRIVMSG", target, text, tags):
            connection.send(line)
    if batched:
        connection.send(wire.format("BATCH", ["-" + ref], server))
