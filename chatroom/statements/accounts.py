"""
The C{accounts} table: one row per registered name, keyed by its caseless account key
(L{chatroom.names.caseless}; the column is C{name_key}), with its password's hash and the
look-alike skeletons of its spelling (L{chatroom.names.key}, L{chatroom.names.shownKey}).
"""

from __future__ import annotations

import time

from chatroom import names
from chatroom.statements import Connection
from chatroom.store import Account, AccountRow

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

    def create(db: Connection) -> bool:
        # Registrations take turns, so that the look-alike check and the insert (one
        # statement) are atomic even against another node's registration.
        db.takeTurns(REGISTERING)
        if _insert(db, accountKey, name, passwordHash):
            bumpChanges(db)
            return True
        return False

    return db.atomically(create)


def _insert(db: Connection, accountKey: str, name: str, passwordHash: str) -> bool:
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


def bumpChanges(db: Connection) -> None:
    """
    Count one more change to accounts, roles, sanctions or slow mode, in the caller's
    transaction: running servers poll the count (L{changes}) to notice another program's
    writes (C{chatroom-admin}'s).
    """
    db.execute("UPDATE moderation SET changes = changes + 1")


def changes(db: Connection) -> int:
    """
    How many changes L{bumpChanges} counted so far.
    """
    row = db.execute("SELECT changes FROM moderation").fetchone()
    return 0 if row is None else int(row[0])


def setPasswordHash(db: Connection, accountKey: str, passwordHash: str) -> None:
    """
    Replace an account's hash (when its hashing parameters are raised, when its user
    changes it, when C{chatroom-admin} resets it).
    """

    def replace(db: Connection) -> None:
        db.execute(
            "UPDATE accounts SET password_hash = ? WHERE name_key = ?", (passwordHash, accountKey)
        )
        bumpChanges(db)

    db.atomically(replace)


def roleOf(db: Connection, accountKey: str) -> str | None:
    """
    The role of the account C{accountKey} (C{user}, C{moderator} or C{admin}), or L{None}
    if there is no such account.
    """
    row = db.execute("SELECT role FROM accounts WHERE name_key = ?", (accountKey,)).fetchone()
    return None if row is None else str(row[0])


def setRole(db: Connection, accountKey: str, role: str) -> bool:
    """
    Give the account C{accountKey} the role C{role}; C{False} if there is no such account.
    """

    def change(db: Connection) -> bool:
        cursor = db.execute("UPDATE accounts SET role = ? WHERE name_key = ?", (role, accountKey))
        if cursor.rowcount != 1:
            return False
        bumpChanges(db)
        return True

    return db.atomically(change)


def accountList(db: Connection) -> list[AccountRow]:
    """
    Every account, by account key.
    """
    rows = db.execute("SELECT name, name_key, role, created FROM accounts ORDER BY name_key")
    return [AccountRow(row[0], row[1], row[2], int(row[3])) for row in rows]


def roles(db: Connection) -> dict[str, str]:
    """
    The role of every account that is not a plain C{user}, by account key.
    """
    rows = db.execute("SELECT name_key, role FROM accounts WHERE role <> 'user'")
    return {row[0]: row[1] for row in rows}


def deleteAccount(db: Connection, accountKey: str, erase: bool) -> bool:
    """
    Delete the account C{accountKey} with its bans and mutes, and the direct messages kept
    for it; with C{erase}, also its public messages in the history and the direct messages
    it sent that wait for others. C{False} if there is no such account.
    """

    def delete(db: Connection) -> bool:
        row = db.execute("SELECT name FROM accounts WHERE name_key = ?", (accountKey,)).fetchone()
        if row is None:
            return False
        db.execute("DELETE FROM accounts WHERE name_key = ?", (accountKey,))
        db.execute("DELETE FROM sanctions WHERE account_key = ?", (accountKey,))
        db.execute("DELETE FROM inbox WHERE recipient_key = ?", (accountKey,))
        if erase:
            db.execute("DELETE FROM history WHERE sender = ?", (row[0],))
            db.execute("DELETE FROM inbox WHERE sender = ?", (row[0],))
        bumpChanges(db)
        return True

    return db.atomically(delete)
