"""
Every moderation verb of protocol section 11 over TCP, on a real server with a real SQLite
file: who may act on whom, the replies and notices, the refusals (C{DENIED}, C{NO_SUCH_USER},
C{BAD_FRAME}, C{BANNED}, C{MUTED}, C{SLOW}), C{@} for staff in C{C USERS}, and the audit kept
in the database, on the console and in the counters.
"""

from __future__ import annotations

import re

import pytest_twisted
from helpers.staff import UNTIL, ConsoleLines, allDenied, expectMatch, promote
from helpers.waits import pause, readUntil
from helpers.wire import connect, loggedIn

from chatroom.database import openStore


async def _room(startServer, *args: str):
    """
    A server with alice (admin), mod (moderator), bob and carol logged in over TCP, every
    JOIN read.
    """
    server = await startServer(*args)
    alice = await loggedIn(server.port, "alice")
    mod = await loggedIn(server.port, "mod")
    bob = await loggedIn(server.port, "bob")
    carol = await loggedIn(server.port, "carol")
    await promote(server, "alice", "admin")
    await promote(server, "mod", "moderator")
    for client in (alice, mod, bob):
        await readUntil(client, "C JOIN carol TCP")
    return server, alice, mod, bob, carol


@pytest_twisted.ensureDeferred
async def test_staff_are_marked_and_users_may_not_moderate(startServer):
    server, alice, mod, bob, carol = await _room(startServer)
    bob.send("C WHO")
    await bob.expect("C USERS @alice:TCP bob:TCP carol:TCP @mod:TCP")
    await allDenied(bob)
    # Who may act on whom.
    mod.send(
        "C KICK alice",
        "C KICK mod",
        "C KICK nobody",
        "C ROLE bob moderator",
        "C BAN bob 10x",
        "C MUTE bob 0m",
        "C BAN bob",
        "C SLOW -1",
        "C UNBAN",
    )
    await mod.expect(
        "C ERR DENIED alice is an admin",
        "C ERR DENIED not on yourself",
        "C ERR NO_SUCH_USER nobody has no account",
        "C ERR DENIED only admins may change roles",
    )
    for _ in range(5):
        assert (await mod.next()).startswith("C ERR BAD_FRAME ")
    alice.send("C ROLE bob admin", "C ROLE bob king", "C ROLE alice user")
    await alice.expect(
        "C ERR DENIED admins are made with chatroom-admin only",
        "C ERR BAD_FRAME a role is user or moderator",
        "C ERR DENIED not on yourself",
    )
    # A moderator may not act on another moderator; an admin may.
    alice.send("C ROLE bob moderator")
    await alice.expect("C OK ROLE bob")
    for client in (alice, mod, bob, carol):
        await client.expect("C MOD ROLE bob alice moderator")
    mod.send("C MUTE bob 1h")
    await mod.expect("C ERR DENIED only admins act on moderators like bob")
    carol.send("C WHO")
    await carol.expect("C USERS @alice:TCP @bob:TCP carol:TCP @mod:TCP")
    alice.send("C ROLE BOB user")  # names are matched as at login
    await alice.expect("C OK ROLE bob")
    await carol.expect("C MOD ROLE bob alice user")
    carol.send("C WHO")
    await carol.expect("C USERS @alice:TCP bob:TCP carol:TCP @mod:TCP")
    assert server.chat.counters.moderation == {"role": 2}


@pytest_twisted.ensureDeferred
async def test_kick_ends_the_session_and_the_user_may_come_back(startServer):
    server, alice, mod, bob, carol = await _room(startServer)
    with ConsoleLines() as console:
        mod.send("C KICK carol spamming links")
        await mod.expect("C OK KICK carol")
    assert "moderation: mod KICK carol until -: spamming links" in console.text()
    await mod.expect("C MOD KICK carol mod - spamming links")
    await carol.expect("C MOD KICK carol mod - spamming links", "C BYE KICKED")
    await carol.waitClosed()
    for client in (alice, bob):
        await client.expect("C MOD KICK carol mod - spamming links", "C LEAVE carol TCP KICKED")
    await mod.expect("C LEAVE carol TCP KICKED")
    again = await loggedIn(server.port, "carol")
    again.send("C WHO")
    await again.expect("C USERS @alice:TCP bob:TCP carol:TCP @mod:TCP")


@pytest_twisted.ensureDeferred
async def test_ban_refuses_logins_until_lifted(startServer):
    server, alice, mod, bob, carol = await _room(startServer)
    mod.send("C BAN carol 2h flooding the room")
    await mod.expect("C OK BAN carol")
    notice = await expectMatch(mod, f"C MOD BAN carol mod ({UNTIL}) flooding the room")
    until = re.fullmatch(f"C MOD BAN carol mod ({UNTIL}) .*", notice).group(1)
    await carol.expect(notice, "C BYE BANNED")
    await carol.waitClosed()
    await bob.expect(notice, "C LEAVE carol TCP BANNED")
    # No password is asked, and the name is not held: another try is refused alike.
    first = await connect(server.port)
    second = await connect(server.port)
    for client in (first, second):
        await client.expect("C HELLO chatroom 1 TCP")
        client.send("C LOGIN Carol")
        await client.expect(f"C ERR BANNED {until} flooding the room")
    mod.send("C BANS")
    await mod.expect(
        "C LEAVE carol TCP BANNED", "C BANS 1", f"D BAN carol BAN mod {until} flooding the room"
    )
    mod.send("C UNBAN carol")
    await mod.expect("C OK UNBAN carol", "C MOD UNBAN carol mod -")
    first.send("C LOGIN carol", "C PASS secret")
    await first.expect("C PASSWORD EXISTING")
    assert (await first.next()).startswith("C WELCOME carol TCP ")
    # Lifting what is not there is said to be done, and tells nobody.
    mod.send("C UNBAN carol", "C BANS")
    await mod.expect("C JOIN carol TCP", "C OK UNBAN carol", "C BANS 0")
    # A forever ban shows no end; a new ban replaces the old.
    await readUntil(alice, "C JOIN carol TCP")
    alice.send("C BAN bob forever", "C BAN bob 1d again")
    await alice.expect("C OK BAN bob", "C MOD BAN bob alice -")
    await alice.expect("C LEAVE bob TCP BANNED", "C OK BAN bob")
    await expectMatch(alice, f"C MOD BAN bob alice {UNTIL} again")
    await mod.expect("C MOD BAN bob alice -", "C LEAVE bob TCP BANNED")
    await expectMatch(mod, f"C MOD BAN bob alice {UNTIL} again")
    mod.send("C BANS")
    await mod.expect("C BANS 1")
    await expectMatch(mod, f"D BAN bob BAN alice {UNTIL} again")
    assert server.chat.counters.moderation == {"ban": 3, "unban": 1}


@pytest_twisted.ensureDeferred
async def test_mute_keeps_a_user_reading_but_not_talking(startServer):
    server, _, mod, bob, carol = await _room(startServer)
    mod.send("C MUTE bob 10m calm down")
    await mod.expect("C OK MUTE bob")
    notice = await expectMatch(mod, f"C MOD MUTE bob mod ({UNTIL}) calm down")
    until = notice.split()[5]
    await bob.expect(notice)
    bob.send("C PM", "D hello?")
    await bob.expect("C ACK PM", f"C ERR MUTED {until}")
    bob.send("C DM", "D carol psst")
    assert (await bob.next()).startswith("C USERS ")
    await bob.expect(f"C ERR MUTED {until}")
    # Direct messages to moderators and admins still go.
    bob.send("C DM", "D mod sorry")
    assert (await bob.next()).startswith("C USERS ")
    await bob.expect("C OK DM mod")
    await mod.expect("D DM bob TCP sorry")
    # The mute holds across a new login.
    bob.send("C EX")
    await bob.expect("C BYE EXIT")
    bob = await loggedIn(server.port, "bob")
    bob.send("C PM", "D back")
    await bob.expect("C ACK PM", f"C ERR MUTED {until}")
    mod.send("C UNMUTE bob")
    await mod.expect("C LEAVE bob TCP EXIT", "C JOIN bob TCP", "C OK UNMUTE bob")
    await mod.expect("C MOD UNMUTE bob mod -")
    await bob.expect("C MOD UNMUTE bob mod -")
    bob.send("C PM", "D back for real")
    await bob.expect("C ACK PM", "C OK PM 3")
    await carol.expect(notice, "C LEAVE bob TCP EXIT", "C JOIN bob TCP")
    await carol.expect("C MOD UNMUTE bob mod -", "D PM bob TCP back for real")


@pytest_twisted.ensureDeferred
async def test_slow_mode_spaces_users_messages_but_not_staffs(startServer):
    _, _, mod, bob, _ = await _room(startServer)
    mod.send("C SLOW 30")
    await mod.expect("C OK SLOW 30", "C MOD SLOW 30 mod -")
    await bob.expect("C MOD SLOW 30 mod -")
    bob.send("C PM", "D one", "C PM", "D two")
    await bob.expect("C ACK PM", "C OK PM 3", "C ACK PM")
    refusal = await bob.next()
    match = re.fullmatch(r"C ERR SLOW (\d+)", refusal)
    assert match and 1 <= int(match.group(1)) <= 30, refusal
    mod.send("C PM", "D a", "C PM", "D b")
    await mod.expect("D PM bob TCP one", "C ACK PM", "C OK PM 3", "C ACK PM", "C OK PM 3")
    mod.send("C SLOW 0")
    await mod.expect("C OK SLOW 0", "C MOD SLOW 0 mod -")
    bob.send("C PM", "D three")
    await readUntil(bob, "C MOD SLOW 0 mod -")
    await bob.expect("C ACK PM", "C OK PM 3")


@pytest_twisted.ensureDeferred
async def test_every_action_is_audited(startServer):
    server, _, mod, _, _ = await _room(startServer)
    mod.send("C MUTE bob 1h noise", "C SLOW 5", "C KICK carol")
    await mod.expect("C OK MUTE bob")
    await readUntil(mod, "C LEAVE carol TCP KICKED")
    from twisted.internet import reactor

    store = openStore(reactor, server.options["db"], 5.0)
    await store.open()
    try:
        # Audit records are written after the reply, in order with the server's other writes.
        for _ in range(100):
            log = await store.auditLog(10)
            if len(log) == 3:
                break
            await pause(0.05)
    finally:
        await store.close()
    assert [(r.actor, r.action, r.target, r.reason) for r in log] == [
        ("mod", "KICK", "carol", ""),
        ("mod", "SLOW", "5", ""),
        ("mod", "MUTE", "bob", "noise"),
    ]
    assert log[2].until is not None and abs(log[2].until - log[2].at - 3600_000) < 60_000
    assert all(r.node == server.chat.moderation.node for r in log)
    assert server.chat.counters.moderation == {"mute": 1, "slow": 1, "kick": 1}


@pytest_twisted.ensureDeferred
async def test_without_accounts_every_verb_is_denied(startServer):
    server = await startServer("--no-accounts")
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send("C LOGIN solo")
    assert (await client.next()).startswith("C WELCOME solo")
    for line in ("C KICK x", "C BAN x 1h", "C SLOW 1", "C ROLE x user", "C BANS"):
        client.send(line)
        await client.expect("C ERR DENIED this server has no accounts, so no moderators")


@pytest_twisted.ensureDeferred
async def test_actions_are_counted_in_the_metrics(startServer):
    import urllib.request

    from twisted.internet.threads import deferToThread

    server, _, mod, _, _ = await _room(startServer, "--metrics", "tcp:0:interface=127.0.0.1")
    mod.send("C MUTE bob 1h", "C KICK carol", "C KICK bob")
    await readUntil(mod, "C LEAVE bob TCP KICKED")
    port = server.top.getServiceNamed("metrics").port.getHost().port

    def scrape() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as answer:
            return answer.read().decode()

    text = await deferToThread(scrape)
    assert 'chatroom_moderation_actions_total{action="kick"} 2.0' in text
    assert 'chatroom_moderation_actions_total{action="mute"} 1.0' in text
    assert "bob" not in text and "carol" not in text  # no series names a user
