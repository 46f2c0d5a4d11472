"""
The main moderation verbs reach users on every transport alike: a moderator on TCP kicks a
UDP user, bans a WebSocket user (whose next login is refused), mutes users on UDP and WEB,
and staff show with C{@} to everyone.
"""

from __future__ import annotations

import pytest_twisted
from helpers import wswire
from helpers.staff import UNTIL, expectMatch, promote
from helpers.waits import readUntil
from helpers.wire import loggedIn


@pytest_twisted.ensureDeferred
async def test_kick_ban_and_mute_over_udp_and_web(startServer, udp):
    server = await startServer()
    mod = await loggedIn(server.port, "mod")
    dave = await udp.loggedIn(server.udpPort, "dave")
    erin = await wswire.loggedIn(server.webPort, "erin")
    await promote(server, "mod", "moderator")
    await readUntil(mod, "C JOIN erin WEB")
    await dave.expect("C JOIN erin WEB")

    erin.send("C WHO")
    await erin.expect("C USERS dave:UDP erin:WEB @mod:TCP")

    # Mutes, on both.
    mod.send("C MUTE dave 5m", "C MUTE erin 1d")
    await mod.expect("C OK MUTE dave")
    muteDave = await expectMatch(mod, f"C MOD MUTE dave mod {UNTIL}")
    await mod.expect("C OK MUTE erin")
    muteErin = await expectMatch(mod, f"C MOD MUTE erin mod {UNTIL}")
    for client in (dave, erin):
        await client.expect(muteDave, muteErin)
    dave.send("C PM", "D hi")
    await dave.expect("C ACK PM", f"C ERR MUTED {muteDave.split()[5]}")
    erin.send("C PM", "D hi")
    await erin.expect("C ACK PM", f"C ERR MUTED {muteErin.split()[5]}")

    # A kick over UDP.
    mod.send("C KICK dave bye")
    await mod.expect("C OK KICK dave", "C MOD KICK dave mod - bye")
    await dave.expect("C MOD KICK dave mod - bye", "C BYE KICKED")
    await erin.expect("C MOD KICK dave mod - bye", "C LEAVE dave UDP KICKED")
    await mod.expect("C LEAVE dave UDP KICKED")

    # A ban over WebSocket: the session ends, and the next login is refused.
    mod.send("C BAN erin 1h")
    await mod.expect("C OK BAN erin")
    ban = await expectMatch(mod, f"C MOD BAN erin mod ({UNTIL})")
    await erin.expect(ban, "C BYE BANNED")
    await erin.waitClosed()
    await mod.expect("C LEAVE erin WEB BANNED")
    again = await wswire.connect(server.webPort)
    await again.expect("C HELLO chatroom 1 WEB")
    again.send("C LOGIN erin")
    await again.expect(f"C ERR BANNED {ban.split()[5]}")
    again.close()
