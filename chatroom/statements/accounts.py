"""
The C{accounts} table: one row per registered name, keyed by its caseless account key
(L{chatroom.names.caseless}; the column is C{name_key}), with its password's hash and the
look-alike skeletons of its spelling (L{chatroom.names.key}, L{chatroom.names.shownKey}).
"""

from __future__ import annotations

import time

from chatroom import names
from chatroom.statements import Connection
from chatroom.store import Account

#: The lock registrations take turns on (a PostgreSQL advisory lock key of our own, beside
#: L{chatroom.pgconnect}'s for the schema).
REGISTERING = 0x636861_02


def lookup(db: Connection, accountKey: str) -> Account | None:
    """
    The account registered under C{accountKey}, if any.
    """
    row = db.execute(
        "SELECT name, password_hash FROM accounts WHERE name_key = ?", (accountKey,)
    ).fetchone()
    return None if row is None else Account(row[0], row[1])


def lookAlike(db: Connection, skeleton: str, shownSkeleton: str) -> str | None:
    """
    The name of an account whose skeleton is C{skeleton} or whose shown skeleton is
    C{shownSkeleton}, if there is one.
    """
    row = db.execute(
        "SELECT name FROM accounts WHERE skeleton = ? OR shown_skeleton = ? LIMIT 1",
        (skeleton, shownSkeleton),
    ).fetchone()
    return None if row is None else str(row[0])


def create(db: Connection, accountKey: str, name: str, passwordHash: str) -> bool:
    """
    Register C{name}; C{False} if its account key, or a look-alike of it (the same
    skeleton or the same shown skeleton), is already registered, on this node or any other.
    """
    # Registrations take turns, so that the look-alike check and the insert (one statement)
    # are atomic even against another node's registration.
    db.takeTurns(REGISTERING)
    cursor = db.execute(
        "INSERT INTO accounts"
        " (name_key, name, password_hash, created, skeleton, shown_skeleton)"
        " SELECT :accountKey, :name, :hash, :created, :skeleton, :shown"
        " WHERE NOT EXISTS (SELECT 1 FROM accounts"
        " WHERE skeleton = :skeleton OR shown_skeleton = :shown)"
        " ON CONFLICT (name_key) DO NOTHING",
        {
            "accountKey": accountKey,
            "name": name,
            "hash": passwordHash,
            "created": int(time.time()),
            "skeleton": names.key(name),
            "shown": names.shownKey(name),
        },
    )
    return cursor.rowcount == 1


def setPasswordHash(db: Connection, accountKey: str, passwordHash: str) -> None:
    """
    Replace an account's hash (when its hashing parameters are raised).
    """
    db.execute(
        "UPDATE accounts SET password_hash = ? WHERE name_key = ?", (passwordHash, accountKey)
    )


def rekey(db: Connection) -> int:
    """
    Recompute every account's look-alike keys under this code's rule and data; return how
    many accounts had other keys on disk.

    The keys are Python's (L{chatroom.names.key}, L{chatroom.names.shownKey}) and change
    with the rule (protocol 1.2's vertical strokes) or with the confusables data (a newer
    ICU): the stores run this whenever they open the database, so no schema version is
    needed for it, and a second run finds nothing to change. Accounts that now share a key
    all keep working, one at a time, as after the 1.1 upgrade; new look-alikes of them are
    refused.
    """
    db.takeTurns(REGISTERING)
    changed = []
    for accountKey, name, skeleton, shown in db.execute(
        "SELECT name_key, name, skeleton, shown_skeleton FROM accounts"
    ):
        now = (names.key(name), names.shownKey(name))
        if now != (skeleton, shown):
            changed.append((*now, accountKey))
    if changed:
        db.executemany(
            "UPDATE accounts SET skeleton = ?, shown_skeleton = ? WHERE name_key = ?", changed
        )
    return len(changed)
