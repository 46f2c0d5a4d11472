"""
The account database: schema creation and upgrades, and the store itself.
"""

from __future__ import annotations

import sqlite3
import stat
from importlib.resources import files

import pytest
import pytest_twisted

from chatroom import names
from chatroom.migrations import DatabaseError, ensureSchema, schemaVersion
from chatroom.sqlitestore import AccountStore, openDatabase
from chatroom.store import Unavailable


def test_fresh_database_gets_the_newest_schema(tmp_path):
    path = tmp_path / "new.sqlite"
    db = openDatabase(str(path))
    assert schemaVersion(db) == 4
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    # Password hashes are nobody else's business.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reopening_keeps_the_data(tmp_path):
    path = str(tmp_path / "db.sqlite")
    db = openDatabase(path)
    db.execute("INSERT INTO accounts VALUES ('k', 'K', 'hash', 0, 'k', 'K', 'user')")
    db.close()
    db = openDatabase(path)
    assert db.execute("SELECT name FROM accounts").fetchall() == [("K",)]


def test_upgrade_runs_each_step_in_order(tmp_path):
    """
    An old file is upgraded step by step, keeping its rows; a fresh one is
    built from the newest full schema.
    """
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "v1.sql").write_text("CREATE TABLE version (version INTEGER);\nCREATE TABLE t (a);")
    v3 = tmp_path / "v3"
    v3.mkdir()
    (v3 / "v3.sql").write_text("CREATE TABLE version (version INTEGER);\nCREATE TABLE t (a, b, c);")
    (v3 / "upgrade-to-v2.sql").write_text("ALTER TABLE t ADD COLUMN b;")
    (v3 / "upgrade-to-v3.sql").write_text("ALTER TABLE t ADD COLUMN c; UPDATE t SET c = b;")

    old = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    assert ensureSchema(old, v1) == 1
    old.execute("INSERT INTO t VALUES (42)")
    assert ensureSchema(old, v3) == 3
    assert schemaVersion(old) == 3
    assert old.execute("SELECT a, b, c FROM t").fetchall() == [(42, None, None)]

    fresh = sqlite3.connect(tmp_path / "fresh.sqlite", isolation_level=None)
    assert ensureSchema(fresh, v3) == 3
    assert [r[1] for r in fresh.execute("PRAGMA table_info(t)")] == ["a", "b", "c"]


def test_a_failed_upgrade_leaves_the_old_version(tmp_path):
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "v1.sql").write_text("CREATE TABLE version (version INTEGER);\nCREATE TABLE t (a);")
    db = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    ensureSchema(db, schemas)
    (schemas / "v2.sql").write_text("")
    (schemas / "upgrade-to-v2.sql").write_text(
        "ALTER TABLE t ADD COLUMN b; SELECT nonsense FROM nowhere;"
    )
    with pytest.raises(sqlite3.OperationalError):
        ensureSchema(db, schemas)
    assert not db.in_transaction
    assert schemaVersion(db) == 1
    assert [r[1] for r in db.execute("PRAGMA table_info(t)")] == ["a"]


def test_a_newer_database_is_refused(tmp_path):
    path = str(tmp_path / "db.sqlite")
    openDatabase(path).execute("UPDATE version SET version = 99")
    with pytest.raises(DatabaseError, match="newer"):
        openDatabase(path)


@pytest_twisted.ensureDeferred
async def test_store_create_and_lookup(tmp_path):
    from twisted.internet import reactor

    store = AccountStore(reactor, str(tmp_path / "db.sqlite"))
    opened = store.open()
    # Queued at once behind open(): finds the database open.
    assert await store.lookup("alice") is None
    await opened
    try:
        assert await store.create("alice", "Alice", "$argon2id$fake") is True
        assert await store.create("alice", "ALICE", "$argon2id$other") is False
        account = await store.lookup("alice")
        assert (account.name, account.passwordHash) == ("Alice", "$argon2id$fake")
        await store.setPasswordHash("alice", "$argon2id$new")
        assert (await store.lookup("alice")).passwordHash == "$argon2id$new"
    finally:
        await store.close()
    # Closed for real: the file opens again with its data.
    again = openDatabase(str(tmp_path / "db.sqlite"))
    assert again.execute("SELECT name FROM accounts").fetchall() == [("Alice",)]


def _v1Database(path: str, accounts: list[str]) -> None:
    """
    A database as chatroom made it before protocol 1.1: schema v1, keyed by
    the caseless name only.
    """
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        (files("chatroom.schema") / "v1.sql").read_text("utf-8") + "INSERT INTO version VALUES (1);"
    )
    for name in accounts:
        db.execute(
            "INSERT INTO accounts VALUES (?, ?, 'hash-of-' || ?, 0)",
            (names.caseless(name), name, name),
        )
    db.close()


#: Registered under 1.0: cop and its all-Cyrillic look-alike, alice and
#: a mixed-script look-alike the 1.1 rules refuse outright, and aIice
#: (capital I), which looks like alice only as shown.
COLLIDING = ["cop", "\u0441\u043e\u0440", "alice", "\u0430lice", "aIice", "bob"]


def test_upgrade_to_v2_gives_every_account_its_skeletons(tmp_path):
    path = str(tmp_path / "old.sqlite")
    _v1Database(path, COLLIDING)
    db = openDatabase(path)
    assert schemaVersion(db) == 4
    rows = {
        name: (skeleton, shown)
        for name, skeleton, shown in db.execute(
            "SELECT name, skeleton, shown_skeleton FROM accounts"
        )
    }
    assert rows == {name: (names.key(name), names.shownKey(name)) for name in COLLIDING}
    assert rows["cop"][0] == rows["\u0441\u043e\u0440"][0]
    assert rows["alice"][0] == rows["\u0430lice"][0]
    assert rows["alice"][0] != rows["aIice"][0]
    assert rows["alice"][1] == rows["aIice"][1]
    for column in ("skeleton", "shown_skeleton"):
        plan = db.execute(
            f"EXPLAIN QUERY PLAN SELECT name FROM accounts WHERE {column} = 'x'"
        ).fetchall()
        assert f"accounts_{column}" in str(plan)
    db.close()


def test_a_fresh_database_matches_an_upgraded_one(tmp_path):
    """
    v2.sql and upgrade-to-v2.sql make the same accounts table and indexes.
    """

    def shape(db: sqlite3.Connection) -> list:
        return sorted(
            db.execute(
                "SELECT type, name, tbl_name FROM sqlite_master WHERE tbl_name = 'accounts'"
            ).fetchall()
        ) + [row[1:3] for row in db.execute("PRAGMA table_info(accounts)")]

    _v1Database(str(tmp_path / "old.sqlite"), [])
    upgraded = openDatabase(str(tmp_path / "old.sqlite"))
    fresh = openDatabase(str(tmp_path / "new.sqlite"))
    assert shape(upgraded) == shape(fresh)
    upgraded.close()
    fresh.close()


@pytest_twisted.ensureDeferred
async def test_colliding_accounts_both_survive_the_upgrade(tmp_path):
    """
    Two accounts that 1.1 counts as one name keep their own rows, each
    found by its exact (caseless) name; nobody can register a third.
    """
    from twisted.internet import reactor

    path = str(tmp_path / "old.sqlite")
    _v1Database(path, COLLIDING)
    store = AccountStore(reactor, path)
    await store.open()
    try:
        for name in COLLIDING:
            account = await store.lookup(names.caseless(name))
            assert (account.name, account.passwordHash) == (name, "hash-of-" + name)
        cop = await store.lookAlike(names.key("COP"), names.shownKey("COP"))
        assert cop in ("cop", "\u0441\u043e\u0440")
        # A third look-alike cannot be registered.
        assert await store.create(names.caseless("c\u043ep"), "c\u043ep", "h") is False
        assert await store.create(names.caseless("dave"), "dave", "h") is True
        assert await store.create(names.caseless("\u0501ave"), "\u0501ave", "h") is False
    finally:
        await store.close()


@pytest_twisted.ensureDeferred
async def test_names_that_look_alike_as_shown_cannot_both_register(tmp_path):
    """
    aIice (capital I) and alice have different keys but look alike on
    screen: whichever registers first, the other is refused and found.
    """
    from twisted.internet import reactor

    for first, second in [("alice", "aIice"), ("aIice", "alice"), ("BOB", "B0B")]:
        store = AccountStore(reactor, str(tmp_path / f"{first}.sqlite"))
        await store.open()
        try:
            assert await store.create(names.caseless(first), first, "h") is True
            assert await store.lookAlike(names.key(second), names.shownKey(second)) == first
            assert await store.create(names.caseless(second), second, "h") is False
            assert await store.lookup(names.caseless(second)) is None
        finally:
            await store.close()
    # One name by its key, two spellings shown: still one name.
    store = AccountStore(reactor, str(tmp_path / "iris.sqlite"))
    await store.open()
    try:
        assert await store.create(names.caseless("iris"), "iris", "h") is True
        assert await store.create(names.caseless("Iris"), "Iris", "h") is False
        # iris and lris neither share a key nor look alike.
        assert await store.create(names.caseless("lris"), "lris", "h") is True
    finally:
        await store.close()


@pytest_twisted.ensureDeferred
async def test_reads_pass_a_write_that_waits_for_a_lock(tmp_path):
    """
    Another connection holds the write lock: a write waits for it (at most
    the busy timeout) while reads queued after it are answered meanwhile.
    """
    from twisted.internet import reactor

    path = str(tmp_path / "db.sqlite")
    store = AccountStore(reactor, path, busyTimeout=60)
    try:
        await store.open()
        await store.create("alice", "alice", "$argon2id$a")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            written: list[bool] = []
            writing = store.create("bob", "bob", "$argon2id$b")
            writing.addCallback(lambda created: written.append(created) or created)
            assert (await store.lookup("alice")).name == "alice"
            assert await store.lookup("bob") is None
            assert written == []
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert await writing is True
    finally:
        await store.close()


@pytest_twisted.ensureDeferred
async def test_a_write_that_cannot_lock_is_unavailable(tmp_path):
    from twisted.internet import reactor

    path = str(tmp_path / "db.sqlite")
    store = AccountStore(reactor, path, busyTimeout=0.2)
    try:
        await store.open()
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            writes = [store.create(f"u{n}", f"u{n}", "$argon2id$x") for n in range(3)]
            for write in writes:
                with pytest.raises(Unavailable, match="locked"):
                    await write
        finally:
            other.execute("ROLLBACK")
            other.close()
        # Nothing was written; the lock gone, the same write succeeds.
        assert await store.lookup("u0") is None
        assert await store.create("u0", "u0", "$argon2id$x") is True
    finally:
        await store.close()
    with pytest.raises(Unavailable, match="closed"):
        await store.lookup("u0")


@pytest_twisted.ensureDeferred
async def test_an_unusable_file_is_unavailable_until_mended(tmp_path):
    """
    A file that is not a database fails every call, each trying to open it
    again; once the file is usable, so is the store.
    """
    from twisted.internet import reactor

    path = tmp_path / "db.sqlite"
    path.write_bytes(b"not a database" * 100)
    store = AccountStore(reactor, str(path))
    try:
        with pytest.raises(Unavailable, match="cannot open"):
            await store.open()
        with pytest.raises(Unavailable, match="cannot open"):
            await store.lookup("alice")
        path.unlink()
        assert await store.create("alice", "alice", "$argon2id$a") is True
        assert (await store.lookup("alice")).name == "alice"
    finally:
        await store.close()


def _v2Database(path: str, accounts: list[str]) -> None:
    """
    A database as chatroom made it before history (schema v2).
    """
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        (files("chatroom.schema") / "v2.sql").read_text("utf-8") + "INSERT INTO version VALUES (2);"
    )
    for name in accounts:
        db.execute(
            "INSERT INTO accounts VALUES (?, ?, 'hash-of-' || ?, 0, ?, ?)",
            (names.caseless(name), name, name, names.key(name), names.shownKey(name)),
        )
    db.close()


def test_upgrade_to_v3_keeps_accounts_and_adds_empty_history_and_inbox(tmp_path):
    path = str(tmp_path / "v2.sqlite")
    _v2Database(path, ["alice", "bob"])
    db = openDatabase(path)
    assert schemaVersion(db) == 4
    assert db.execute("SELECT name, password_hash FROM accounts ORDER BY name").fetchall() == [
        ("alice", "hash-of-alice"),
        ("bob", "hash-of-bob"),
    ]
    assert db.execute("SELECT count(*) FROM history").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM inbox").fetchone() == (0,)
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM inbox WHERE recipient_key = 'bob' ORDER BY id"
    ).fetchall()
    assert "inbox_recipient" in str(plan)
    db.close()


def test_a_fresh_v3_database_matches_an_upgraded_one(tmp_path):
    def shape(db: sqlite3.Connection) -> list:
        tables = sorted(db.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall())
        columns = [
            (table, row[1], row[2], row[3], row[5])
            for table in ("accounts", "history", "inbox")
            for row in db.execute(f"PRAGMA table_info({table})")
        ]
        return tables + columns

    _v1Database(str(tmp_path / "v1.sqlite"), [])
    _v2Database(str(tmp_path / "v2.sqlite"), [])
    fresh = openDatabase(str(tmp_path / "new.sqlite"))
    for old in ("v1.sqlite", "v2.sqlite"):
        upgraded = openDatabase(str(tmp_path / old))
        assert shape(upgraded) == shape(fresh)
        upgraded.close()
    fresh.close()
