"""
Direct messages to registered users who are offline (protocol 1.1), over
real sockets: kept (C{C OK DM <name> STORED}), handed over right after the
recipient's next C{C WELCOME}, kept across a restart, refused when the
inbox is full or the database is locked, deleted once handed over or too
old, and kept when the recipient's connection dies while logging in.
"""

from __future__ import annotations

import sqlite3

import pytest_twisted
from helpers.conversation import INBOX, dm, logInForInbox, register
from helpers.locker import Locker
from helpers.waits import pause
from helpers.wire import connect, loggedIn
from twisted.logger import globalLogPublisher


@pytest_twisted.ensureDeferred
async def test_stored_and_handed_over_once_oldest_first(startServer):
    logged: list[str] = []

    def observe(event: dict) -> None:
        logged.append(repr(event))

    globalLogPublisher.addObserver(observe)
    try:
        server = await startServer()
        await register(server.port, "bob")
        alice = await loggedIn(server.port, "alice")
        assert await dm(alice, "BOB", "first secret words") == "C OK DM bob STORED"
        assert await dm(alice, "bob", "second secret words") == "C OK DM bob STORED"
        answer = await dm(alice, "nobody", "hello?")
        assert answer.startswith("C ERR NO_SUCH_USER "), answer
        bob, entries = await logInForInbox(server.port, "bob")
        assert entries == [
            ("alice", "TCP", "first secret words"),
            ("alice", "TCP", "second secret words"),
        ]
        bob.send("C EX")
        await bob.expect("C BYE EXIT")
        bob.close()
        await alice.expect("C JOIN bob TCP", "C LEAVE bob TCP EXIT")
        await pause(0.2)  # the deletion is a write of its own
        bob, entries = await logInForInbox(server.port, "bob")
        assert entries == []
        await alice.expect("C JOIN bob TCP")
        # Online now: delivered at once, as in version 1.
        assert await dm(alice, "bob", "live") == "C OK DM bob"
        assert await bob.next() == "D DM alice TCP live"
        alice.close()
        bob.close()
    finally:
        globalLogPublisher.removeObserver(observe)
    text = "\n".join(logged)
    assert "stored a direct message" in text and "handed " in text
    assert "secret words" not in text


@pytest_twisted.ensureDeferred
async def test_inbox_comes_before_pipelined_answers(startServer):
    server = await startServer()
    await register(server.port, "bob")
    alice = await loggedIn(server.port, "alice")
    assert await dm(alice, "bob", "hi") == "C OK DM bob STORED"
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send("C LOGIN bob", "C PASS secret", "C WHO")
    await client.expect("C PASSWORD EXISTING")
    assert (await client.next()).startswith("C WELCOME bob TCP ")
    await client.expect("C INBOX 1")
    assert INBOX.fullmatch(await client.next()).group(4) == "hi"
    assert (await client.next()).startswith("C USERS ")
    alice.close()
    client.close()


@pytest_twisted.ensureDeferred
async def test_stored_direct_messages_survive_a_restart(startServer):
    server = await startServer()
    await register(server.port, "bob")
    alice = await loggedIn(server.port, "alice")
    assert await dm(alice, "bob", "across the restart") == "C OK DM bob STORED"
    alice.close()
    await server.stop()
    server = await startServer()
    bob, entries = await logInForInbox(server.port, "bob")
    assert entries == [("alice", "TCP", "across the restart")]
    bob.close()


@pytest_twisted.ensureDeferred
async def test_inbox_full(startServer):
    server = await startServer("--inbox", "2")
    await register(server.port, "bob")
    alice = await loggedIn(server.port, "alice")
    assert await dm(alice, "bob", "1") == "C OK DM bob STORED"
    assert await dm(alice, "bob", "2") == "C OK DM bob STORED"
    answer = await dm(alice, "bob", "3")
    assert answer.startswith("C ERR INBOX_FULL "), answer
    bob, entries = await logInForInbox(server.port, "bob")
    assert [text for *_, text in entries] == ["1", "2"]
    bob.close()
    alice.close()


@pytest_twisted.ensureDeferred
async def test_no_accounts_keeps_no_such_user(startServer):
    server = await startServer("--no-accounts")
    bob = await connect(server.port)
    await bob.expect("C HELLO chatroom 1 TCP")
    bob.send("C LOGIN bob", "C EX")
    assert (await bob.next()).startswith("C WELCOME bob ")
    alice = await connect(server.port)
    await alice.expect("C HELLO chatroom 1 TCP")
    alice.send("C LOGIN alice")
    assert (await alice.next()).startswith("C WELCOME alice ")
    await pause(0.1)
    answer = await dm(alice, "bob", "hi")
    assert answer.startswith("C ERR NO_SUCH_USER "), answer
    alice.close()
    bob.close()


@pytest_twisted.ensureDeferred
async def test_kept_when_the_connection_dies_while_logging_in(startServer):
    server = await startServer()
    await register(server.port, "bob")
    alice = await loggedIn(server.port, "alice")
    assert await dm(alice, "bob", "do not lose me") == "C OK DM bob STORED"
    dying = await connect(server.port)
    await dying.expect("C HELLO chatroom 1 TCP")
    dying.send("C LOGIN bob")
    await dying.expect("C PASSWORD EXISTING")
    dying.send("C PASS secret")
    dying.transport.abortConnection()
    await dying.waitClosed()
    await pause(0.3)
    bob, entries = await logInForInbox(server.port, "bob")
    assert entries == [("alice", "TCP", "do not lose me")]
    alice.close()
    bob.close()


@pytest_twisted.ensureDeferred
async def test_locked_database_is_unavailable(startServer, tmp_path):
    server = await startServer("--db-timeout", "0.5")
    await register(server.port, "bob")
    alice = await loggedIn(server.port, "alice")
    locker = Locker(str(tmp_path / "chat.sqlite"))
    try:
        answer = await dm(alice, "bob", "not now")
        assert answer.startswith("C ERR UNAVAILABLE "), answer
    finally:
        locker.release()
    assert await dm(alice, "bob", "now") == "C OK DM bob STORED"
    bob, entries = await logInForInbox(server.port, "bob")
    assert [text for *_, text in entries] == ["now"]
    alice.close()
    bob.close()


@pytest_twisted.ensureDeferred
async def test_old_stored_messages_are_deleted(startServer, tmp_path):
    server = await startServer()
    await register(server.port, "bob")
    alice = await loggedIn(server.port, "alice")
    assert await dm(alice, "bob", "soon stale") == "C OK DM bob STORED"
    alice.close()
    await server.stop()
    await pause(1.0)
    # A tenth of a second's retention: never handed over, and deleted when
    # the server starts.
    server = await startServer("--inbox-days", str(0.1 / 86400))
    bob, entries = await logInForInbox(server.port, "bob")
    assert entries == []
    bob.close()
    await server.stop()
    db = sqlite3.connect(tmp_path / "chat.sqlite")
    assert db.execute("SELECT count(*) FROM inbox").fetchone() == (0,)
    db.close()
