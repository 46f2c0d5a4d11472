"""
What a store is, whichever database holds it: the calls the room, the
accounts, the history and the inbox make (L{Store}), what they get back,
and how they fail (L{Unavailable}).

The stores themselves are L{chatroom.sqlitestore} (a file) and
L{chatroom.pgstore} (PostgreSQL); code that only uses a store imports
this module, and neither database's driver.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from twisted.internet.defer import Deferred

from chatroom.settings import BUSY_TIMEOUT as BUSY_TIMEOUT

T = TypeVar("T")


#: Threads (each with its own connection) that answer reads.
READERS = 2


class Unavailable(Exception):
    """
    The database cannot do this right now: another program holds its lock
    for longer than the busy timeout, or the file cannot be opened or read.
    Nothing was changed; the same call may succeed later.
    """


class Store(Protocol):
    """
    What the room, the accounts, the history and the inbox need of a database:
    L{chatroom.sqlitestore.AccountStore} (SQLite) or L{chatroom.pgstore.PostgresStore}.

    The functions given to C{write} and C{read} run on a thread of the store's with a DB-API
    connection (C{execute}, C{executemany}) whose SQL uses C{?} or C{:name} placeholders;
    L{atomically} makes several statements one transaction on either.

    @ivar path: what C{--db} named, for messages (never with a password).
    """

    path: str

    def write(self, f: Callable[[Any], T]) -> Deferred[T]: ...

    def read(self, f: Callable[[Any], T]) -> Deferred[T]: ...

    def open(self) -> Deferred[None]: ...

    def openNow(self) -> None: ...

    def close(self) -> Deferred[None]: ...

    def lookup(self, nameKey: str) -> Deferred[Account | None]: ...

    def lookAlike(self, skeleton: str, shownSkeleton: str) -> Deferred[str | None]: ...

    def create(self, nameKey: str, name: str, passwordHash: str) -> Deferred[bool]: ...

    def setPasswordHash(self, nameKey: str, passwordHash: str) -> Deferred[None]: ...


@dataclass(frozen=True)
class Account:
    """
    A registered account as stored: never a password, only its hash.
    """

    name: str
    passwordHash: str


def atomically(db: Any, f: Callable[[Any], T]) -> T:
    """
    C{f(db)} in one transaction: all of it is committed, or none of it.

    For the writer's connection, which is otherwise in autocommit mode. (A PostgreSQL store's
    calls are each one transaction already: its connection says so itself.)
    """
    if not isinstance(db, sqlite3.Connection):
        result: T = db.atomically(f)
        return result
    db.execute("BEGIN IMMEDIATE")
    try:
        result = f(db)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return result
