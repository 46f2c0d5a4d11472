"""
Moderation kept in the database: what a running server does when the database changes under
it (as C{chatroom-admin} changes it, through a store of its own), and what a restarted server
still holds (bans, mutes, slow mode, roles).
"""

from __future__ import annotations

import re
import time

import pytest_twisted
from helpers.staff import UNTIL, promote
from helpers.waits import eventually, pause, readUntil
from helpers.wire import connect, loggedIn

from chatroom import names
from chatroom.database import openStore
from chatroom.store import BAN, MUTE, Sanction


async def _adminStore(server):
    """
    A store of its own on the server's database, as chatroom-admin opens one.
    """
    from twisted.internet import reactor

    store = openStore(reactor, server.options["db"], 5.0)
    await store.open()
    return store


def _nowMs() -> int:
    return int(time.time() * 1000)


@pytest_twisted.ensureDeferred
async def test_changes_made_in_the_database_reach_the_running_server(startServer):
    server = await startServer()
    watcher = await loggedIn(server.port, "watcher")
    bob = await loggedIn(server.port, "bob")
    carol = await loggedIn(server.port, "carol")
    dave = await loggedIn(server.port, "dave")
    for client in (watcher, bob, carol):
        await readUntil(client, "C JOIN dave TCP")
    store = await _adminStore(server)
    seen: dict[str, float] = {}
    try:
        # A ban: the session ends as a ban from the wire does, without a C MOD.
        started = time.monotonic()
        await store.addSanction(
            Sanction("bob", "bob", BAN, _nowMs() + 3600_000, "by hand", "chatroom-admin", _nowMs())
        )
        await bob.expect("C BYE BANNED")
        seen["ban"] = time.monotonic() - started
        await watcher.expect("C LEAVE bob TCP BANNED")
        again = await connect(server.port)
        await again.expect("C HELLO chatroom 1 TCP")
        again.send("C LOGIN bob")
        assert re.fullmatch(f"C ERR BANNED {UNTIL} by hand", await again.next())

        # A deleted account: its session ends as a kick.
        started = time.monotonic()
        assert await store.deleteAccount(names.caseless("carol"), erase=False)
        await carol.expect("C LEAVE bob TCP BANNED", "C BYE KICKED")
        seen["delete"] = time.monotonic() - started
        await watcher.expect("C LEAVE carol TCP KICKED")

        # A role shows in C USERS.
        started = time.monotonic()
        assert await store.setRole("dave", "moderator")
        for _ in range(100):
            watcher.send("C WHO")
            if await watcher.next() == "C USERS @dave:TCP watcher:TCP":
                break
            await pause(0.1)
        else:
            raise AssertionError("dave's role never showed")
        seen["role"] = time.monotonic() - started

        # Slow mode, and a mute.
        await store.setSlow(600)
        await store.addSanction(
            Sanction("watcher", "watcher", MUTE, None, "", "chatroom-admin", _nowMs())
        )
        rulebook = server.chat.rulebook
        await eventually(
            lambda: rulebook.slow == 600 and rulebook.mutedAt("watcher") is not None,
            "slow mode and the mute",
        )
        watcher.send("C PM", "D hello?")
        await watcher.expect("C ACK PM", "C ERR MUTED -")
        dave.send("C PM", "D staff are not slowed", "C PM", "D twice")
        await readUntil(dave, "C LEAVE carol TCP KICKED")
        await dave.expect("C ACK PM", "C OK PM 1", "C ACK PM", "C OK PM 1")
    finally:
        await store.close()
    print(f"database changes seen by the running server after (s): {seen}")


@pytest_twisted.ensureDeferred
async def test_bans_mutes_slow_mode_and_roles_survive_a_restart(startServer):
    server = await startServer()
    mod = await loggedIn(server.port, "mod")
    for name in ("bob", "carol", "dave"):
        client = await loggedIn(server.port, name)
        client.send("C EX")
        await client.expect("C BYE EXIT")
    await promote(server, "mod", "moderator")
    mod.send("C BAN bob 1d spam", "C MUTE carol forever", "C SLOW 300")
    await readUntil(mod, "C OK SLOW 300")
    await server.stop()

    server = await startServer()
    bob = await connect(server.port)
    await bob.expect("C HELLO chatroom 1 TCP")
    bob.send("C LOGIN bob")
    assert re.fullmatch(f"C ERR BANNED {UNTIL} spam", await bob.next())
    carol = await loggedIn(server.port, "carol")
    carol.send("C PM", "D hi")
    await carol.expect("C ACK PM", "C ERR MUTED -")
    dave = await loggedIn(server.port, "dave")
    dave.send("C PM", "D one", "C PM", "D two")
    await dave.expect("C ACK PM", "C OK PM 1", "C ACK PM")
    assert re.fullmatch(r"C ERR SLOW \d+", await dave.next())
    mod = await loggedIn(server.port, "mod")
    mod.send("C WHO", "C BANS")
    await mod.expect("C USERS carol:TCP dave:TCP @mod:TCP", "C BANS 2")
    assert re.fullmatch(f"D BAN bob BAN mod {UNTIL} spam", await mod.next())
    await mod.expect("D BAN carol MUTE mod -")
