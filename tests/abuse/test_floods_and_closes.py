"""
Misbehaving clients over real sockets: floods and abrupt closes.
"""

from __future__ import annotations

import time

import pytest_twisted
from helpers.waits import pause
from helpers.wire import LineClient, connect, loggedIn


@pytest_twisted.ensureDeferred
async def test_a_flood_is_refused_and_others_are_served(server):
    flooder = await loggedIn(server.port, "flooder")
    other = await loggedIn(server.port, "other")
    await flooder.expect("C JOIN other TCP")
    flooder.send(*[f"C PING {i}" for i in range(1000)])
    other.send("C PING meanwhile")
    await other.expect("C PONG meanwhile")
    replies = [await flooder.next() for _ in range(1000)]
    refused = [r for r in replies if r.startswith("C ERR RATE ")]
    answered = [r for r in replies if r.startswith("C PONG ")]
    assert len(refused) + len(answered) == 1000
    # A burst of 40 (two of them spent logging in), then 20 a second.
    assert 35 <= len(answered) < 100 and len(refused) > 900
    # Answers keep their order, whatever was refused in between.
    numbers = [int(r.split()[-1]) for r in answered]
    assert numbers == sorted(numbers) and numbers[:35] == list(range(35))
    await pause(1.1)
    flooder.send("C PING after")  # the bucket refilled: served again
    await flooder.expect("C PONG after")


async def _states(port: int) -> list[tuple[str, LineClient]]:
    """
    One client in each state of the protocol, named by the state.
    """
    clients: list[tuple[str, LineClient]] = []

    async def fresh() -> LineClient:
        client = await connect(port)
        await client.expect("C HELLO chatroom 1 TCP")
        return client

    connected = await connect(port)
    clients.append(("connected", connected))
    clients.append(("greeted", await fresh()))
    naming = await fresh()
    naming.send("C LOGIN naming")
    await naming.expect("C PASSWORD NEW")
    clients.append(("at the password", naming))
    hashing = await fresh()
    hashing.send("C LOGIN hashing", "C PASS pw")  # closed while hashing
    clients.append(("while the password is hashed", hashing))
    clients.append(("logged in", await loggedIn(port, "active")))
    pm = await loggedIn(port, "pmpending")
    pm.send("C PM")
    await pm.expect("C ACK PM")
    clients.append(("public message pending", pm))
    dm = await loggedIn(port, "dmpending")
    dm.send("C DM")
    assert (await dm.next()).startswith("C USERS ")
    clients.append(("direct message pending", dm))
    partial = await loggedIn(port, "partial")
    partial.transport.write(b"D half a fra")
    clients.append(("half a frame sent", partial))
    long = await loggedIn(port, "long")
    long.transport.write(b"D " + b"x" * 10000)
    clients.append(("inside an over-long line", long))
    return clients


@pytest_twisted.ensureDeferred
async def test_abrupt_close_in_every_state_leaves_nothing_behind(server):
    watcher = await loggedIn(server.port, "watcher")
    clients = await _states(server.port)
    for _, client in clients:
        client.transport.abortConnection()  # RST, no goodbye
    for _, client in clients:
        await client.waitClosed()
    deadline = time.monotonic() + 10
    while len(server.chat.sessions) > 1 and time.monotonic() < deadline:
        await pause(0.05)
    assert [s.name for s in server.chat.sessions] == ["watcher"]
    assert list(server.chat.roster.online) == ["watcher"] and server.chat.roster.reserved == {}
    # No CPU spin afterwards: an idle second costs (nearly) nothing.
    before = time.process_time()
    await pause(1.0)
    assert time.process_time() - before < 0.5
    # Every name is free again.
    again = await loggedIn(server.port, "naming")
    again.send("C WHO")
    await again.expect("C USERS naming:TCP watcher:TCP")
    watcher.send("C PING")
    notices = 0
    while await watcher.next() != "C PONG":  # after the notices of all that
        notices += 1
        assert notices < 100
