"""
Schema v4 (protocol 1.2's roles and moderation) and the store's calls for it, on a real
SQLite file and a real PostgreSQL: the upgrade from v3 keeps every row and matches a fresh v4,
and every call (roles, accounts listed and deleted, bans and mutes, slow mode, the audit, the
change counter) does what L{chatroom.store.Store} says, the same on both engines.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
from importlib.resources import as_file, files

import psycopg
import pytest
import pytest_twisted

from chatroom import names
from chatroom.bench import pgserver
from chatroom.migrations import schemaVersion
from chatroom.pgconnect import ensureSchema, schemaFiles
from chatroom.pgstore import PostgresStore
from chatroom.sqlitestore import AccountStore, openDatabase
from chatroom.store import BAN, MUTE, AuditRecord, Sanction

_names = itertools.count()


def _v3Database(path: str, accounts: list[str]) -> None:
    """
    A database as chatroom made it before roles (schema v3), with a message in each table.
    """
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        (files("chatroom.schema") / "v3.sql").read_text("utf-8") + "INSERT INTO version VALUES (3);"
    )
    for name in accounts:
        db.execute(
            "INSERT INTO accounts VALUES (?, ?, 'hash-of-' || ?, 7, ?, ?)",
            (names.caseless(name), name, name, names.key(name), names.shownKey(name)),
        )
    db.execute("INSERT INTO history (at, sender, transport, text) VALUES (1, 'alice', 'TCP', 'hi')")
    db.execute(
        "INSERT INTO inbox (recipient_key, at, sender, transport, text)"
        " VALUES ('bob', 2, 'alice', 'TCP', 'psst')"
    )
    db.close()


def _shape(db: sqlite3.Connection) -> list:
    tables = sorted(db.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall())
    columns = [
        (table, row[1], row[2], row[3], row[4], row[5])
        for table in ("accounts", "history", "inbox", "sanctions", "moderation", "audit")
        for row in db.execute(f"PRAGMA table_info({table})")
    ]
    return tables + columns


def test_sqlite_upgrade_to_v4_keeps_every_row_and_matches_a_fresh_v4(tmp_path):
    path = str(tmp_path / "v3.sqlite")
    _v3Database(path, ["alice", "Bob"])
    db = openDatabase(path)
    assert schemaVersion(db) == 4
    assert db.execute(
        "SELECT name, password_hash, created, role FROM accounts ORDER BY name_key"
    ).fetchall() == [("alice", "hash-of-alice", 7, "user"), ("Bob", "hash-of-Bob", 7, "user")]
    assert db.execute("SELECT sender, text FROM history").fetchall() == [("alice", "hi")]
    assert db.execute("SELECT recipient_key, text FROM inbox").fetchall() == [("bob", "psst")]
    assert db.execute("SELECT slow, changes FROM moderation").fetchall() == [(0, 0)]
    assert db.execute("SELECT count(*) FROM sanctions").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM audit").fetchone() == (0,)
    fresh = openDatabase(str(tmp_path / "new.sqlite"))
    assert _shape(db) == _shape(fresh)
    db.close()
    fresh.close()


@pytest.fixture
def pgURL(postgres: pgserver.PostgresServer) -> str:
    if postgres.process is None:
        postgres.start()
    return postgres.createDatabase(f"mod{os.getpid()}_{next(_names)}")


def test_postgresql_upgrade_to_v4_keeps_every_row(postgres, pgURL, tmp_path):
    v3 = tmp_path / "v3"
    v3.mkdir()
    with as_file(schemaFiles() / "v3.sql") as source:
        shutil.copy(source, v3 / "v3.sql")
    with psycopg.connect(pgURL, autocommit=True) as db:
        assert ensureSchema(db, v3) == 3
        db.execute("INSERT INTO accounts VALUES ('alice', 'alice', 'h', 7, 'alice', 'alice')")
        db.execute(
            "INSERT INTO history (at, sender, transport, text) VALUES (1, 'alice', 'TCP', 'hi')"
        )
        assert ensureSchema(db, schemaFiles()) == 4
        assert db.execute("SELECT name, created, role FROM accounts").fetchall() == [
            ("alice", 7, "user")
        ]
        assert db.execute("SELECT text FROM history").fetchall() == [("hi",)]
        assert db.execute("SELECT slow, changes FROM moderation").fetchall() == [(0, 0)]
        # The upgraded database has the columns of a fresh one.
        upgraded = db.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY table_name, column_name"
        ).fetchall()
    fresh = postgres.createDatabase(f"mod{os.getpid()}_{next(_names)}")
    with psycopg.connect(fresh, autocommit=True) as db:
        assert ensureSchema(db, schemaFiles()) == 4
        assert (
            db.execute(
                "SELECT table_name, column_name, data_type, is_nullable"
                " FROM information_schema.columns"
                " WHERE table_schema = 'public' ORDER BY table_name, column_name"
            ).fetchall()
            == upgraded
        )


@pytest_twisted.async_yield_fixture(params=["sqlite", "postgresql"])
async def store(request, tmp_path):
    from twisted.internet import reactor

    if request.param == "sqlite":
        opened = AccountStore(reactor, str(tmp_path / "db.sqlite"))
    else:
        opened = PostgresStore(reactor, request.getfixturevalue("pgURL"), busyTimeout=5)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest_twisted.ensureDeferred
async def test_roles_accounts_and_the_change_counter(store):
    assert await store.changes() == 0
    assert await store.create("alice", "Alice", "$argon2id$a") is True
    assert await store.create("bob", "bob", "$argon2id$b") is True
    assert await store.create("bob", "Bob", "$argon2id$b") is False  # not a change
    assert await store.changes() == 2
    assert await store.roleOf("alice") == "user"
    assert await store.roleOf("nobody") is None
    assert await store.setRole("alice", "admin") is True
    assert await store.setRole("nobody", "admin") is False
    assert await store.roleOf("alice") == "admin"
    assert await store.roles() == {"alice": "admin"}
    await store.setPasswordHash("bob", "$argon2id$new")
    assert await store.changes() == 4
    listed = await store.accountList()
    assert [(a.name, a.key, a.role) for a in listed] == [
        ("Alice", "alice", "admin"),
        ("bob", "bob", "user"),
    ]
    assert all(isinstance(a.created, int) and a.created > 1_700_000_000 for a in listed)


@pytest_twisted.ensureDeferred
async def test_sanctions_replace_expire_and_are_listed_soonest_first(store):
    for name in ("alice", "bob", "carol"):
        await store.create(name, name, "$argon2id$x")
    before = await store.changes()
    now = 1_800_000_000_000
    await store.addSanction(Sanction("bob", "bob", BAN, now + 60_000, "spam", "alice", now))
    await store.addSanction(Sanction("carol", "carol", MUTE, None, "", "alice", now))
    await store.addSanction(Sanction("alice", "alice", MUTE, now + 1000, "x", "root", now))
    # A new ban of bob replaces the old one.
    await store.addSanction(Sanction("bob", "bob", BAN, now + 30_000, "flood", "alice", now + 1))
    assert await store.changes() == before + 4
    inForce = await store.sanctionsInForce(now)
    assert [(s.key, s.kind, s.until, s.reason) for s in inForce] == [
        ("alice", MUTE, now + 1000, "x"),
        ("bob", BAN, now + 30_000, "flood"),
        ("carol", MUTE, None, ""),
    ]
    # Ended sanctions are not in force, though still kept.
    assert [s.key for s in await store.sanctionsInForce(now + 1000)] == ["bob", "carol"]
    assert await store.sanctionsOf("bob", now) == [
        Sanction("bob", "bob", BAN, now + 30_000, "flood", "alice", now + 1)
    ]
    assert await store.sanctionsOf("bob", now + 30_000) == []
    assert await store.removeSanction("bob", BAN) is True
    assert await store.removeSanction("bob", BAN) is False
    assert await store.removeSanction("carol", BAN) is False
    assert await store.changes() == before + 5
    assert [s.key for s in await store.sanctionsInForce(now)] == ["alice", "carol"]


@pytest_twisted.ensureDeferred
async def test_slow_mode_and_the_audit(store):
    assert await store.slow() == 0
    await store.setSlow(30)
    assert await store.slow() == 30
    assert await store.changes() == 1
    first = AuditRecord(1000, "node-a", "alice", "BAN", "bob", 61000, "spam")
    second = AuditRecord(2000, "host", "chatroom-admin", "ROLE", "carol", None, "")
    await store.appendAudit(first)
    await store.appendAudit(second)
    assert await store.auditLog(10) == [second, first]
    assert await store.auditLog(1) == [second]
    # Auditing is not a change the servers need to act on.
    assert await store.changes() == 1


@pytest_twisted.ensureDeferred
async def test_deleting_an_account_and_erasing_what_it_said(store):
    for name in ("alice", "bob", "carol"):
        await store.create(name, name, "$argon2id$x")
    await store.appendHistory([(1, "alice", "TCP", "a1"), (2, "bob", "TCP", "b1")], 100)
    await store.keepInInbox("carol", (3, "alice", "TCP", "to carol"), 10)
    await store.keepInInbox("alice", (4, "bob", "TCP", "to alice"), 10)
    await store.keepInInbox("carol", (5, "bob", "TCP", "bob to carol"), 10)
    await store.addSanction(Sanction("alice", "alice", BAN, None, "", "x", 1))
    await store.addSanction(Sanction("bob", "bob", MUTE, None, "", "x", 1))
    before = await store.changes()

    # Without erase: the account, its sanctions and what waits for it go; what it said stays.
    assert await store.deleteAccount("bob", erase=False) is True
    assert await store.lookup("bob") is None
    assert [s.key for s in await store.sanctionsInForce(0)] == ["alice"]
    history, _ = await store.loadHistory(100)
    assert [h[3] for h in history] == ["a1", "b1"]
    assert [m[1][3] for m in await store.inboxOf("carol", 0)] == ["to carol", "bob to carol"]

    # With erase: its public messages and the direct messages it sent go too.
    assert await store.deleteAccount("alice", erase=True) is True
    history, _ = await store.loadHistory(100)
    assert [h[3] for h in history] == ["b1"]
    assert [m[1][3] for m in await store.inboxOf("carol", 0)] == ["bob to carol"]
    assert await store.inboxOf("alice", 0) == []
    assert await store.sanctionsInForce(0) == []
    assert await store.deleteAccount("alice", erase=True) is False
    assert await store.changes() == before + 2
