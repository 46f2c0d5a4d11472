"""
Steps of a conversation over TCP (a L{helpers.wire.LineClient}) that the
history, inbox and PostgreSQL tests share: say things, ask for the
history, send a direct message, register, log in and take the inbox.
"""

from __future__ import annotations

import re
from typing import cast

from helpers.wire import connect, loggedIn

#: D HISTORY <time> <from> <transport> <text>, the time in RFC 3339 UTC with milliseconds.
ENTRY = re.compile(r"D HISTORY (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) (\S+) (.*)")

#: D INBOX <time> <from> <transport> <text>.
INBOX = re.compile(r"D INBOX (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) (\S+) (.*)")


async def say(client, *texts: str) -> None:
    for text in texts:
        client.send("C PM", f"D {text}")
        await client.expect("C ACK PM")
        assert (await client.next()).startswith("C OK PM ")


async def history(client, ask: str = "C HISTORY") -> list[tuple[str, str, str, str]]:
    client.send(ask)
    head = await client.next()
    assert head.startswith("C HISTORY "), head
    entries = []
    for _ in range(int(head.split()[2])):
        frame = await client.next()
        match = ENTRY.fullmatch(frame)
        assert match, frame
        entries.append(cast(tuple[str, str, str, str], match.groups()))
    return entries


def texts(entries) -> list[str]:
    return [entry[3] for entry in entries]


async def register(port: int, name: str) -> None:
    client = await loggedIn(port, name)
    client.send("C EX")
    await client.expect("C BYE EXIT")
    client.close()


async def dm(client, target: str, text: str) -> str:
    client.send("C DM", f"D {target} {text}")
    assert (await client.next()).startswith("C USERS ")
    return await client.next()


async def logInForInbox(port: int, name: str, *after: str):
    """
    Log in as C{name} (pipelining C{after}); the client and its inbox.
    """
    client = await connect(port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send(f"C LOGIN {name}", "C PASS secret", *after)
    await client.expect("C PASSWORD EXISTING")
    assert (await client.next()).startswith(f"C WELCOME {name} TCP ")
    # Nothing stored: the next frame is the answer to C PING.
    client.send("C PING inbox")
    head = await client.next()
    if head == "C PONG inbox":
        return client, []
    assert head.startswith("C INBOX "), head
    entries = []
    for _ in range(int(head.split()[2])):
        match = INBOX.fullmatch(await client.next())
        assert match
        entries.append(match.groups()[1:])
    await client.expect("C PONG inbox")
    return client, entries
