"""
C{--db postgresql://...}: accounts, history and stored direct messages in a real PostgreSQL
(our own cluster, see C{chatroom.bench.pgserver}), over real sockets: registering and logging in,
history and stored messages across a restart, schema creation and upgrades, PostgreSQL going
away under a running server and coming back, a twistd process, and clear start-up errors.

CI installs PostgreSQL (C{.ci/system-packages}), so there a missing PostgreSQL fails instead of
skipping.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from importlib.resources import files
from pathlib import Path

import psycopg
import pytest
import pytest_twisted
from helpers.conversation import dm, history, logInForInbox, register, say, texts
from helpers.wire import BlockingClient, connect, installed, loggedIn, twistdServer

from chatroom.bench import pgserver
from chatroom.migrations import DatabaseError
from chatroom.pgconnect import ensureSchema, schemaFiles
from chatroom.pgstore import PostgresStore
from chatroom.store import Unavailable

_names = itertools.count()


@pytest.fixture
def pgURL(postgres: pgserver.PostgresServer) -> str:
    """
    A fresh empty database in our running cluster.
    """
    if postgres.process is None:  # a test that stopped it failed before it started it again
        postgres.start()
    return postgres.createDatabase(f"chat{os.getpid()}_{next(_names)}")


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as db:
        return db.execute(sql).fetchall()


@pytest_twisted.ensureDeferred
async def test_register_login_and_wrong_password(startServer, pgURL, tmp_path):
    server = await startServer("--db", pgURL)
    alice = await loggedIn(server.port, "alice", "hunter2")
    alice.close()
    again = await connect(server.port)
    await again.expect("C HELLO chatroom 1 TCP")
    again.send("C LOGIN Alice", "C PASS hunter2")
    await again.expect(
        "C PASSWORD EXISTING", "C WELCOME alice TCP Welcome alice, you are connected via TCP."
    )
    again.close()
    wrong = await connect(server.port)
    await wrong.expect("C HELLO chatroom 1 TCP")
    wrong.send("C LOGIN alice", "C PASS hunter3")
    await wrong.expect("C PASSWORD EXISTING")
    assert (await wrong.next()).startswith("C ERR BAD_PASSWORD ")
    wrong.close()
    # A look-alike is refused by the database too (the same rule as SQLite's).
    lookalike = await connect(server.port)
    await lookalike.expect("C HELLO chatroom 1 TCP")
    lookalike.send("C LOGIN aIice")
    assert (await lookalike.next()).startswith("C ERR NAME_TAKEN "), "look-alike accepted"
    lookalike.close()
    # In PostgreSQL, hashed; no SQLite file was made.
    [(name, hashed)] = _rows(pgURL, "SELECT name, password_hash FROM accounts")
    assert name == "alice" and hashed.startswith("$argon2id$") and "hunter2" not in hashed
    assert _rows(pgURL, "SELECT version FROM version") == [(4,)]
    assert not (tmp_path / "chat.sqlite").exists()


@pytest_twisted.ensureDeferred
async def test_history_across_a_restart(startServer, pgURL):
    server = await startServer("--db", pgURL, "--history", "4")
    alice = await loggedIn(server.port, "alice")
    await say(alice, *(f"m{n}" for n in range(6)), "100% sure?")
    alice.close()
    await server.stop()  # writes the last batch
    assert _rows(pgURL, "SELECT text FROM history ORDER BY id") == [
        ("m3",),
        ("m4",),
        ("m5",),
        ("100% sure?",),
    ]
    server = await startServer("--db", pgURL, "--history", "3")
    bob = await loggedIn(server.port, "bob")
    assert texts(await history(bob)) == ["m4", "m5", "100% sure?"]
    bob.close()


@pytest_twisted.ensureDeferred
async def test_stored_direct_messages_across_a_restart(startServer, pgURL):
    server = await startServer("--db", pgURL)
    await register(server.port, "bob")
    alice = await loggedIn(server.port, "alice")
    assert await dm(alice, "bob", "first") == "C OK DM bob STORED"
    assert await dm(alice, "bob", "second") == "C OK DM bob STORED"
    alice.close()
    await server.stop()
    server = await startServer("--db", pgURL)
    bob, entries = await logInForInbox(server.port, "bob")
    assert entries == [("alice", "TCP", "first"), ("alice", "TCP", "second")]
    bob.close()
    # Handed over once: deleted from the database.
    _, again = await logInForInbox(server.port, "bob")
    assert again == []
    _.close()


def test_schema_created_then_upgraded_step_by_step(pgURL, tmp_path):
    """
    A fresh database gets the packaged v4; a later chatroom (a v5 upgrade of its own here)
    takes it to v5 in a step that keeps every row; a failed step leaves v4 whole; a database
    newer than this chatroom is refused.
    """
    packaged = schemaFiles()
    with psycopg.connect(pgURL, autocommit=True) as db:
        assert ensureSchema(db, packaged) == 4
        db.execute("INSERT INTO accounts VALUES ('k', 'K', 'hash', 0, 'k', 'K', 'user')")

        broken = tmp_path / "broken"
        broken.mkdir()
        (broken / "v5.sql").write_text("-- a fresh v5")
        (broken / "upgrade-to-v5.sql").write_text(
            "ALTER TABLE accounts ADD COLUMN colour TEXT; SELECT no_such_function();"
        )
        with pytest.raises(psycopg.errors.UndefinedFunction):
            ensureSchema(db, broken)
        assert db.execute("SELECT version FROM version").fetchall() == [(4,)]
        assert "colour" not in [c.name for c in db.execute("SELECT * FROM accounts").description]

        v5 = tmp_path / "v5"
        v5.mkdir()
        (v5 / "v5.sql").write_text("-- a fresh v5")
        (v5 / "upgrade-to-v5.sql").write_text(
            "ALTER TABLE accounts ADD COLUMN colour TEXT NOT NULL DEFAULT 'blue';"
        )
        assert ensureSchema(db, v5) == 5
        assert db.execute("SELECT version FROM version").fetchall() == [(5,)]
        assert db.execute("SELECT name, colour FROM accounts").fetchall() == [("K", "blue")]

        with pytest.raises(DatabaseError, match="v5 is newer than this chatroom"):
            ensureSchema(db, packaged)


def test_packaged_postgresql_schema_matches_sqlite_tables():
    """
    Both engines hold the same tables at the same version (the SQL differs only in types).
    """
    sqlite = (files("chatroom.schema") / "v4.sql").read_text()
    postgres = (schemaFiles() / "v4.sql").read_text()
    for table in ("version", "accounts", "history", "inbox", "sanctions", "moderation", "audit"):
        assert f"CREATE TABLE {table}" in sqlite and f"CREATE TABLE {table}" in postgres


@pytest_twisted.ensureDeferred
async def test_postgresql_stopped_then_back(startServer, postgres, pgURL):
    """
    PostgreSQL stops under a running server: logins, registrations and stored messages get
    C{ERR UNAVAILABLE} and the sessions go on; once it is back, the same server logs people in
    again, without a restart.
    """
    server = await startServer("--db", pgURL, "--db-timeout", "2")
    await register(server.port, "bob")
    alice = await loggedIn(server.port, "alice")
    postgres.stop()
    try:
        carol = await connect(server.port)
        await carol.expect("C HELLO chatroom 1 TCP")
        carol.send("C LOGIN bob")
        answer = await carol.next()
        assert answer.startswith("C ERR UNAVAILABLE "), answer
        assert (await dm(alice, "bob", "kept?")).startswith("C ERR UNAVAILABLE ")
        # Alice's session goes on, and so does Carol's.
        alice.send("C PING still")
        await alice.expect("C PONG still")
        carol.send("C PING here")
        await carol.expect("C PONG here")
    finally:
        postgres.start()
    carol.send("C LOGIN bob", "C PASS secret")
    await carol.expect("C PASSWORD EXISTING")
    assert (await carol.next()).startswith("C WELCOME bob TCP ")
    await alice.expect("C JOIN bob TCP")
    # Writes too: a direct message is stored for an offline user again.
    await register(server.port, "erin")
    await alice.expect("C JOIN erin TCP", "C LEAVE erin TCP EXIT")
    assert await dm(alice, "erin", "back") == "C OK DM erin STORED"
    carol.close()
    alice.close()


def test_twistd_with_postgresql(postgres, pgURL, tmp_path):
    """
    A real C{twistd chatroom --db postgresql://...}: accounts kept across its restart.
    """
    for expected in ["C PASSWORD NEW", "C PASSWORD EXISTING"]:
        server = twistdServer(tmp_path, f"--db={pgURL}")
        try:
            client = BlockingClient(server.ports["TCP"])
            client.expect("C HELLO chatroom 1 TCP")
            client.send("C LOGIN dana", "C PASS pw", "C EX")
            client.expect(expected, "C WELCOME dana TCP Welcome dana, you are connected via TCP.")
            client.expect("C BYE EXIT")
            client.close()
        finally:
            assert server.stop() == 0
    assert not list(tmp_path.glob("*.sqlite"))


def _start(tmp_path: Path, db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [installed("twistd"), "-n", "--pidfile=", "chatroom", "--port", "0", "--db", db],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_a_newer_database_stops_the_start(pgURL, tmp_path):
    with psycopg.connect(pgURL, autocommit=True) as db:
        ensureSchema(db, schemaFiles())
        db.execute("UPDATE version SET version = 99")
    result = _start(tmp_path, pgURL)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert f"cannot use --db {pgURL}: database schema v99 is newer than this chatroom" in output


@pytest.mark.parametrize(
    ("url", "shown", "says"),
    [
        (
            "postgresql://chat:s3cret@[::1/chat",
            "postgresql://(a URL that cannot be read)",
            "not a valid PostgreSQL URL",
        ),
        (
            "postgresql://chat:s3cret@127.0.0.1:1/chat",
            "postgresql://chat:***@127.0.0.1:1/chat",
            "Connection refused",
        ),
        (
            "postgresql://chat@127.0.0.1/chat?nonsense=1",
            "postgresql://chat@127.0.0.1/chat?nonsense=1",
            "invalid URI query parameter",
        ),
    ],
)
def test_unusable_url_is_a_clear_startup_error(tmp_path, url, shown, says):
    """
    One line names the URL as C{shown}: its password starred, or, when the URL cannot be read
    (and so neither can where its password is), not at all.
    """
    result = _start(tmp_path, url)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"cannot use --db {shown}: " in output, output
    assert says in output, output
    assert "Traceback" not in output
    assert "s3cret" not in output


@pytest_twisted.ensureDeferred
async def test_store_unavailable_until_the_database_exists(postgres, pgURL):
    """
    The store opened without a database to talk to answers L{Unavailable}, then works once
    there is one: as the SQLite store does with a file that cannot be used.
    """
    from twisted.internet import reactor

    missing = pgURL + "_later"
    store = PostgresStore(reactor, missing, busyTimeout=2)
    with pytest.raises(Unavailable):
        await store.open()
    try:
        with pytest.raises(Unavailable):
            await store.lookup("alice")
        postgres.createDatabase(missing.rsplit("/", 1)[1])
        assert await store.create("alice", "alice", "$argon2id$x") is True
        assert await store.create("alice", "Alice", "$argon2id$y") is False
        assert (await store.lookup("alice")).passwordHash == "$argon2id$x"
    finally:
        await store.close()
