"""
Every SQL statement chatroom runs on its data, one module per table: L{accounts},
L{history}, L{inbox}. Nothing else in chatroom asks the data anything, so that what the
database holds and how it is asked read in one place; what remains elsewhere is each engine's
own plumbing (pragmas, transactions, timeouts, the schema's version) and the schemas
themselves (C{chatroom.schema}).

A statement is a function of a L{Connection} and plain values that returns plain values; the
stores (L{chatroom.threadedstore}) run it on one of their threads and hand its answer back as
a Deferred. The statements speak SQLite's dialect on either engine; PostgreSQL's few
differences are all translated in one place, L{chatroom.pgconnect.Connection}: placeholders
(C{?}, C{:name}), transactions (L{Connection.atomically}), and locks between nodes
(L{Connection.takeTurns}).

Adding a table (the moderation issue's bans, mutes and audit, say) is one step of each kind:

 1. The schema, version N+1, for both engines, so that a version means one thing on both:
    C{chatroom/schema/vN+1.sql} (a fresh database: vN's tables and the new one) and
    C{chatroom/schema/upgrade-to-vN+1.sql} (vN to N+1: the new table alone, or an
    C{ALTER TABLE accounts ADD COLUMN} with a default for a new column such as a role);
    likewise in C{chatroom/schema/postgresql/} (BIGINT for 64-bit numbers, identity columns
    for ids). L{chatroom.migrations.plan} finds the new version by itself, for both engines,
    and each step is applied atomically; no Python changes for it.
 2. A module here for the new table (C{bans.py}: its statements, each a function taking the
    connection first), beside these.
 3. One call per statement on the store: in L{chatroom.threadedstore.ThreadedStore} (one
    line each: C{self.write(bans.add, ...)} or C{self.read(...)}) and its signature in
    L{chatroom.store.Store}. Both engines get it at once.
 4. Tests: an upgrade from vN keeps every row and matches a fresh vN+1 (C{test_store} for
    SQLite, C{test_postgresql} for PostgreSQL), and the tests that expect the newest
    version to be N say N+1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Cursor(Protocol):
    """
    What a statement reads of a DB-API cursor (C{sqlite3}'s or psycopg's).
    """

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """
    A connection as the statements use one, on either engine: SQL in SQLite's dialect, with
    C{?} or C{:name} placeholders.

    L{chatroom.sqlitestore.SQLiteConnection} is one; so is
    L{chatroom.pgconnect.Connection}, which translates.
    """

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    def atomically(self, f: Callable[[Connection], T]) -> T:
        """
        C{f(self)} in one transaction: all of it is committed, or none of it.
        """
        ...

    def takeTurns(self, lock: int) -> None:
        """
        Until this call's transaction ends, wait for (and keep out) every other call, on any
        node, that takes the same C{lock}: for a check and a write that must be atomic even
        against another node's.
        """
        ...


def answers(db: Connection) -> None:
    """
    The smallest question a database can answer: whether it answers at all
    (C{/readyz} asks it).
    """
    db.execute("SELECT 1").fetchall()
