"""
Moderation in tests (protocol 1.2, section 11): making staff as C{chatroom-admin} does (a
second store on the server's own database, so the running server hears of it by polling the
change counter), and reading frames past the noise of joins.
"""

from __future__ import annotations

import re

from twisted.logger import ILogObserver
from zope.interface import implementer

from chatroom import names
from helpers.waits import eventually

#: An end as C{C MOD} and C{C ERR BANNED} show it.
UNTIL = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


async def promote(server, name: str, role: str) -> None:
    """
    Give C{name} the role C{role} in the server's database, through a store of its own, and
    wait (bounded) until the running server knows.
    """
    from twisted.internet import reactor

    from chatroom.database import openStore

    store = openStore(reactor, server.options["db"], 5.0)
    await store.open()
    try:
        assert await store.setRole(names.caseless(name), role)
    finally:
        await store.close()
    rulebook = server.chat.rulebook
    await eventually(lambda: rulebook.roleOf(names.caseless(name)) == role, f"{name} {role}")


#: Every verb of section 11, as a user (no role) might send it.
VERBS = (
    "C KICK carol",
    "C BAN carol 1h",
    "C UNBAN carol",
    "C MUTE carol 1h",
    "C UNMUTE carol",
    "C SLOW 10",
    "C ROLE carol moderator",
    "C BANS",
)


async def allDenied(client) -> None:
    """
    C{client}, a user, sends each of L{VERBS} and is refused each.
    """
    for line in VERBS:
        client.send(line)
        await client.expect("C ERR DENIED only moderators and admins may do that")


async def nextNot(client, *prefixes: str, limit: int = 50) -> str:
    """
    The next frame that starts with none of C{prefixes} (C{C JOIN}, say).
    """
    for _ in range(limit):
        frame = await client.next()
        if not frame.startswith(prefixes):
            return frame
    raise AssertionError(f"only {prefixes} in {limit} frames")


async def expectMatch(client, pattern: str, skip: tuple[str, ...] = ("C JOIN ",)) -> str:
    """
    The next frame (past C{skip}) matches C{pattern} in full.
    """
    frame = await nextNot(client, *skip)
    assert re.fullmatch(pattern, frame), (pattern, frame)
    return frame


@implementer(ILogObserver)
class ConsoleLines:
    """
    What the server in this process shows on its console, as text lines, while it is kept.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, event: dict) -> None:
        from twisted.logger import formatEvent

        self.lines.extend((formatEvent(event) or "").splitlines())

    def __enter__(self) -> ConsoleLines:
        from twisted.logger import globalLogPublisher

        globalLogPublisher.addObserver(self)
        return self

    def __exit__(self, *exc: object) -> None:
        from twisted.logger import globalLogPublisher

        globalLogPublisher.removeObserver(self)

    def text(self) -> str:
        return "\n".join(self.lines)
