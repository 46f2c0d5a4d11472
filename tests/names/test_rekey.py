"""
Accounts' look-alike keys are recomputed whenever a store opens the database (protocol 1.2
changed the rule, and a newer ICU may change the data): in a real SQLite file and a real
PostgreSQL, idempotently, every row kept.
"""

from __future__ import annotations

import os
import sqlite3

import psycopg

from chatroom import names
from chatroom.bench import pgserver
from chatroom.pgconnect import Connection, connect
from chatroom.sqlitestore import openDatabase
from chatroom.statements import accounts

#: Names and the keys chatroom stored for them before 1.2.
STALE = {
    "iris": ("iris", "iris"),
    "lris": ("lris", "lris"),
    "Alice": ("alice", "Alice"),
    "\u0430\u04cf\u0456\u0441\u0435": ("aiice", "aiice"),  # Unicode 13's palochka: i
}

INSERT = (
    "INSERT INTO accounts (name_key, name, password_hash, created, skeleton, shown_skeleton)"
    " VALUES (?, ?, 'hash', 0, ?, ?)"
)
KEYS = "SELECT name, skeleton, shown_skeleton FROM accounts ORDER BY name"


def _expected() -> list[tuple[str, str, str]]:
    return sorted((name, names.key(name), names.shownKey(name)) for name in STALE)


def test_sqlite_keys_are_recomputed_when_the_file_opens(tmp_path):
    path = str(tmp_path / "chat.sqlite")
    db = openDatabase(path)
    for name, (key, shown) in STALE.items():
        db.execute(INSERT, (names.caseless(name), name, key, shown))
    db.close()
    db = openDatabase(path)
    assert db.execute(KEYS).fetchall() == _expected()
    assert names.key("iris") == names.key("lris")
    assert db.atomically(accounts.rekey) == 0  # idempotent
    db.close()
    raw = sqlite3.connect(path)
    assert raw.execute(KEYS).fetchall() == _expected()
    raw.close()


def test_postgresql_keys_are_recomputed_when_it_connects(postgres: pgserver.PostgresServer):
    if postgres.process is None:
        postgres.start()
    url = postgres.createDatabase(f"rekey{os.getpid()}")
    db = connect(url, 5)
    with db.transaction():
        for name, (key, shown) in STALE.items():
            Connection(db).execute(INSERT, (names.caseless(name), name, key, shown))
    db.close()
    db = connect(url, 5)
    with db.transaction():
        assert accounts.rekey(Connection(db)) == 0  # connect() did it already
    db.close()
    with psycopg.connect(url) as check:
        assert sorted(check.execute(KEYS).fetchall()) == _expected()
