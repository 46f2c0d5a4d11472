"""
The store in SQLite (the default C{--db}): one file, written from one thread
of its own and read from a few others. It answers L{chatroom.store.Store}.

A dedicated one-thread pool serialises every write on a single connection,
which is what SQLite wants. Reads (every login asks one) run on a small pool
of their own, each thread with its own connection: in WAL mode readers never
wait for a writer, so a write stuck behind another program's lock does not
stall the logins queued after it. Every call waits at most L{BUSY_TIMEOUT}
seconds, counted from when it was asked, then fails with L{Unavailable}.
Password hashing runs on yet another pool and queues behind neither. (The
threads and the calls are L{chatroom.threadedstore}'s; what is SQLite's is
here: how the file is opened, and how long a call waits for its lock.)
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from importlib.resources.abc import Traversable
from typing import TypeVar

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IReactorFromThreads
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from chatroom.migrations import DatabaseError, ensureSchema, schemaFiles
from chatroom.statements import Connection, accounts
from chatroom.store import BUSY_TIMEOUT, Unavailable
from chatroom.threadedstore import ThreadedStore

T = TypeVar("T")


class SQLiteConnection(sqlite3.Connection):
    """
    An sqlite3 connection as L{chatroom.statements} use one
    (L{chatroom.statements.Connection}): the statements speak SQLite's
    dialect, so all it adds is a transaction (L{atomically}) and turns
    (L{takeTurns}, a no-op here).
    """

    def atomically(self, f: Callable[[Connection], T]) -> T:
        """
        C{f(self)} in one transaction, for a connection otherwise in
        autocommit mode: all of it is committed, or none of it.
        """
        self.execute("BEGIN IMMEDIATE")
        try:
            result = f(self)
            self.execute("COMMIT")
        except BaseException:
            if self.in_transaction:
                self.execute("ROLLBACK")
            raise
        return result

    def takeTurns(self, lock: int) -> None:
        """
        Nothing to wait for: an SQLite file serves one node, whose writes run
        one at a time on one connection, and each statement is atomic.
        """


def openDatabase(
    path: str, schemas: Traversable | None = None, busyTimeout: float = BUSY_TIMEOUT
) -> SQLiteConnection:
    """
    Open (creating if needed) the account database at C{path}.

    The file is created readable by its owner only: it holds password
    hashes. WAL mode with full sync makes every committed registration
    survive a crash of the server or of the machine. Every account's
    look-alike keys are brought to this code's rule (L{accounts.rekey}).

    @param busyTimeout: seconds to wait for a lock held by someone else.
    """
    if path != ":memory:":
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    db = sqlite3.connect(
        path,
        timeout=busyTimeout,
        isolation_level=None,
        check_same_thread=False,
        factory=SQLiteConnection,
    )
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        ensureSchema(db, schemaFiles() if schemas is None else schemas)
        db.atomically(accounts.rekey)
    except BaseException:
        db.close()
        raise
    return db


class AccountStore(ThreadedStore[SQLiteConnection]):
    """
    Accounts, history and stored direct messages in an SQLite file:
    L{chatroom.store.Store}.

    A call that cannot be done right now fails with L{Unavailable}; if the
    file could not be opened, the next call tries again, so the store
    recovers by itself once the file is usable. Calls made before the file
    is open wait for it.

    @ivar path: the database file.
    @ivar busyTimeout: seconds a call may wait for another program's lock.
    """

    def __init__(
        self, reactor: IReactorFromThreads, path: str, busyTimeout: float = BUSY_TIMEOUT
    ) -> None:
        super().__init__(reactor, path, busyTimeout, "chatroom-db")
        # Reactor-thread state: whether the writer's connection is open, and
        # who waits for it to be.
        self._isOpen = False
        self._waiting: list[Deferred[None]] = []

    def _connectWriter(self) -> SQLiteConnection:
        try:
            return openDatabase(self.path, busyTimeout=self.busyTimeout)
        except (OSError, sqlite3.Error, DatabaseError) as e:
            raise Unavailable(f"cannot open the account database: {e}") from e

    def _connectReader(self) -> SQLiteConnection:
        try:
            db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, factory=SQLiteConnection
            )
            db.execute("PRAGMA query_only = ON")
        except sqlite3.Error as e:
            raise Unavailable(f"cannot open the account database: {e}") from e
        return db

    def _within(self, db: SQLiteConnection, deadline: float, f: Callable[[Connection], T]) -> T:
        """
        C{f(db)}, waiting for locks only until C{deadline} (C{time.monotonic}).

        The deadline counts from when the call was made, so calls queued behind
        a write that waited for the lock do not each wait the whole timeout again.
        """
        remaining = max(0, int((deadline - time.monotonic()) * 1000))
        try:
            db.execute(f"PRAGMA busy_timeout = {remaining}")
            return f(db)
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
            raise  # our own doing, not the database's state
        except sqlite3.Error as e:
            raise Unavailable(f"the account database: {e}") from e

    def _submit(self, pool: ThreadPool, job: Callable[..., T], *args: object) -> Deferred[T]:
        """
        C{job(*args)} on C{pool} once the writer's connection is open.
        """

        def submit(ignored: None) -> Deferred[T]:
            # Checked again once the file is open: close() may have begun meanwhile.
            if self._closing:
                return fail(Unavailable("the account store is closed"))
            return self._run(pool, job, *args)

        return self._ready().addCallback(submit)

    def _ready(self) -> Deferred[None]:
        """
        Fires once the writer's connection is open, opening it if need be;
        fails with L{Unavailable} if it cannot be.
        """
        if self._closing:
            return fail(Unavailable("the account store is closed"))
        if self._isOpen:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._waiting.append(d)
        if len(self._waiting) == 1:
            self._run(self._pool, self._openWriter).addBoth(self._opened)
        return d

    def _openWriter(self) -> None:
        if self._writer is None:
            self._writer = self._connectWriter()

    def _opened(self, result: object) -> None:
        self._isOpen = not isinstance(result, Failure)
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            if isinstance(result, Failure):
                d.errback(result)
            else:
                d.callback(None)

    def openNow(self) -> None:
        """
        Open (or create, or upgrade) the file here and now, then start the
        database threads: for a server that must not start without it.

        This blocks, so it is for start-up, before the reactor runs and
        before any call could be made on the writer's thread.

        @raise Unavailable: if the file cannot be used; nothing is started.
        """
        self._openWriter()
        self._isOpen = True
        self._startThreads()
