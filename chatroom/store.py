"""
The account store: one SQLite file, reached from one thread of its own.

SQLite calls block, so they never run on the reactor thread. A dedicated
one-thread pool serialises every statement on a single connection, which
is what SQLite wants, while password hashing runs on the reactor's own
thread pool and does not queue behind the database.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TypeVar

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from chatroom import names

T = TypeVar("T")

_FULL = re.compile(r"v(\d+)\.sql")


class DatabaseError(Exception):
    """
    The database file cannot be used by this version of chatroom.
    """


@dataclass(frozen=True)
class Account:
    """
    A registered account as stored: never a password, only its hash.
    """

    name: str
    passwordHash: str


def schemaFiles() -> Traversable:
    """
    The packaged schema directory: C{vN.sql} builds version N from
    nothing, C{upgrade-to-vN.sql} takes version N-1 to N.
    """
    return resources.files("chatroom.schema")


def targetVersion(schemas: Traversable) -> int:
    """
    The newest schema version present in C{schemas}.
    """
    versions = [
        int(m.group(1)) for entry in schemas.iterdir() if (m := _FULL.fullmatch(entry.name))
    ]
    if not versions:
        raise DatabaseError("no schema files found")
    return max(versions)


def schemaVersion(db: sqlite3.Connection) -> int | None:
    """
    The schema version recorded in C{db}, or L{None} for an empty file.
    """
    try:
        row = db.execute("SELECT version FROM version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else int(row[0])


def _apply(db: sqlite3.Connection, script: str, version: int) -> None:
    # executescript commits first; BEGIN...COMMIT makes each step atomic,
    # so a crash or an error mid-upgrade leaves the previous version intact.
    try:
        db.executescript(
            f"BEGIN;\n{script}\n"
            f"DELETE FROM version; INSERT INTO version VALUES ({version});\nCOMMIT;"
        )
    except sqlite3.Error:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def ensureSchema(db: sqlite3.Connection, schemas: Traversable) -> int:
    """
    Bring C{db} to the newest schema in C{schemas}, creating it if empty.

    @return: the version the database now holds.
    @raise DatabaseError: if the file was written by a newer chatroom.
    """
    # Upgrade steps are SQL; what only Python knows is offered as functions.
    db.create_function("chatroom_skeleton", 1, names.key, deterministic=True)
    target = targetVersion(schemas)
    current = schemaVersion(db)
    if current is None:
        _apply(db, schemas.joinpath(f"v{target}.sql").read_text("utf-8"), target)
        return target
    if current > target:
        raise DatabaseError(f"database schema v{current} is newer than this chatroom (v{target})")
    for version in range(current + 1, target + 1):
        upgrade = schemas.joinpath(f"upgrade-to-v{version}.sql")
        _apply(db, upgrade.read_text("utf-8"), version)
    return target


def openDatabase(path: str, schemas: Traversable | None = None) -> sqlite3.Connection:
    """
    Open (creating if needed) the account database at C{path}.

    The file is created readable by its owner only: it holds password
    hashes. WAL mode with full sync makes every committed registration
    survive a crash of the server or of the machine.
    """
    if path != ":memory:":
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        ensureSchema(db, schemaFiles() if schemas is None else schemas)
    except BaseException:
        db.close()
        raise
    return db


class AccountStore:
    """
    Accounts in SQLite, with a Deferred-returning interface.

    @ivar path: the database file.
    """

    def __init__(self, reactor: IReactorFromThreads, path: str) -> None:
        self.path = path
        self._reactor = reactor
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="chatroom-db")
        self._db: sqlite3.Connection | None = None

    def _run(self, f: Callable[..., T], *args: object) -> Deferred[T]:
        return deferToThreadPool(self._reactor, self._pool, f, *args)

    def _query(self, f: Callable[[sqlite3.Connection], T]) -> Deferred[T]:
        """
        Run C{f(connection)} on the database thread.

        The connection is fetched there too: jobs run in the order they were
        queued, so one queued right after L{open} finds the file open.
        """

        def withConnection() -> T:
            if self._db is None:
                raise DatabaseError("the account store is not open")
            return f(self._db)

        return self._run(withConnection)

    def open(self) -> Deferred[None]:
        """
        Start the database thread and open (or create, or upgrade) the file.
        """
        self._pool.start()

        def connect() -> None:
            self._db = openDatabase(self.path)

        # On failure the thread stays up, so that every later query fails
        # promptly with DatabaseError instead of waiting forever.
        return self._run(connect)

    def close(self) -> Deferred[None]:
        """
        Close the file, then stop the database thread.
        """
        if not self._pool.started:
            return succeed(None)

        def disconnect() -> None:
            db, self._db = self._db, None
            if db is not None:
                db.close()

        def stopped(result: object) -> object:
            self._pool.stop()
            return result

        return self._run(disconnect).addBoth(stopped)

    def lookup(self, nameKey: str) -> Deferred[Account | None]:
        """
        The account registered under C{nameKey} (see L{chatroom.names.caseless}).
        """

        def query(db: sqlite3.Connection) -> Account | None:
            row = db.execute(
                "SELECT name, password_hash FROM accounts WHERE name_key = ?",
                (nameKey,),
            ).fetchone()
            return None if row is None else Account(row[0], row[1])

        return self._query(query)

    def lookAlike(self, skeleton: str) -> Deferred[str | None]:
        """
        The name of an account whose skeleton is C{skeleton} (see
        L{chatroom.names.key}), if there is one.
        """

        def query(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "SELECT name FROM accounts WHERE skeleton = ? LIMIT 1", (skeleton,)
            ).fetchone()
            return None if row is None else row[0]

        return self._query(query)

    def create(self, nameKey: str, name: str, passwordHash: str) -> Deferred[bool]:
        """
        Register an account; C{False} if the name, or a look-alike of it
        (same L{chatroom.names.key}), is already registered.

        The Deferred fires only once the row is committed to disk.
        """

        def insert(db: sqlite3.Connection) -> bool:
            skeleton = names.key(name)
            try:
                # One statement, so that the check and the insert are atomic.
                cursor = db.execute(
                    "INSERT INTO accounts (name_key, name, password_hash, created, skeleton)"
                    " SELECT ?, ?, ?, ?, ?"
                    " WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE skeleton = ?)",
                    (nameKey, name, passwordHash, int(time.time()), skeleton, skeleton),
                )
            except sqlite3.IntegrityError:
                return False
            return cursor.rowcount == 1

        return self._query(insert)

    def setPasswordHash(self, nameKey: str, passwordHash: str) -> Deferred[None]:
        """
        Replace an account's hash (when its hashing parameters are raised).
        """

        def update(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE accounts SET password_hash = ? WHERE name_key = ?",
                (passwordHash, nameKey),
            )

        return self._query(update)
