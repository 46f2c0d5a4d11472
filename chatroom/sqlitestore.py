"""
The store in SQLite (the default C{--db}): one file, written from one thread
of its own and read from a few others. It answers L{chatroom.store.Store}.

SQLite calls block, so they never run on the reactor thread. A dedicated
one-thread pool serialises every write on a single connection, which is
what SQLite wants. Reads (every login asks one) run on a small pool of their
own, each thread with its own connection: in WAL mode readers never wait for
a writer, so a write stuck behind another program's lock does not stall the
logins queued after it. Every call waits at most L{BUSY_TIMEOUT} seconds,
counted from when it was asked, then fails with L{Unavailable}. Password
hashing runs on yet another pool and queues behind neither.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from importlib.resources.abc import Traversable
from typing import TypeVar

from twisted.internet.defer import Deferred, DeferredList, fail, succeed
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from chatroom import names
from chatroom.migrations import DatabaseError, ensureSchema, schemaFiles
from chatroom.store import BUSY_TIMEOUT, READERS, Account, Unavailable

T = TypeVar("T")


def openDatabase(
    path: str, schemas: Traversable | None = None, busyTimeout: float = BUSY_TIMEOUT
) -> sqlite3.Connection:
    """
    Open (creating if needed) the account database at C{path}.

    The file is created readable by its owner only: it holds password
    hashes. WAL mode with full sync makes every committed registration
    survive a crash of the server or of the machine.

    @param busyTimeout: seconds to wait for a lock held by someone else.
    """
    if path != ":memory:":
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    db = sqlite3.connect(path, timeout=busyTimeout, isolation_level=None, check_same_thread=False)
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

    A call that cannot be done right now fails with L{Unavailable}; if the
    file could not be opened, the next call tries again, so the store
    recovers by itself once the file is usable.

    @ivar path: the database file.
    @ivar busyTimeout: seconds a call may wait for another program's lock.
    """

    def __init__(
        self, reactor: IReactorFromThreads, path: str, busyTimeout: float = BUSY_TIMEOUT
    ) -> None:
        self.path = path
        self.busyTimeout = busyTimeout
        self._reactor = reactor
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="chatroom-db")
        self._readPool = ThreadPool(minthreads=0, maxthreads=READERS, name="chatroom-db-read")
        # The writer's connection: touched on the writer thread only.
        self._db: sqlite3.Connection | None = None
        # Readers' connections not in use right now, shared by the read threads.
        self._idleReaders: list[sqlite3.Connection] = []
        self._readersLock = threading.Lock()
        # Reactor-thread state: whether the writer is open, who waits for it
        # to be, and which calls are running (close waits for them).
        self._isOpen = False
        self._closing = False
        self._waiting: list[Deferred[None]] = []
        self._running: set[Deferred[None]] = set()

    def _run(self, pool: ThreadPool, f: Callable[..., T], *args: object) -> Deferred[T]:
        """
        C{f(*args)} on one of C{pool}'s threads, counted as running until done.
        """
        d = deferToThreadPool(self._reactor, pool, f, *args)
        done: Deferred[None] = Deferred()
        self._running.add(done)

        def finished(result: object) -> object:
            self._running.discard(done)
            done.callback(None)
            return result

        return d.addBoth(finished)

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
            self._run(self._pool, self._connect).addBoth(self._opened)
        return d

    def _submit(self, pool: ThreadPool, job: Callable[[], T]) -> Deferred[T]:
        # Checked again once the file is open: close() may have begun meanwhile.
        if self._closing:
            return fail(Unavailable("the account store is closed"))
        return self._run(pool, job)

    def _connect(self) -> None:
        if self._db is None:
            try:
                self._db = openDatabase(self.path, busyTimeout=self.busyTimeout)
            except (OSError, sqlite3.Error, DatabaseError) as e:
                raise Unavailable(f"cannot open the account database: {e}") from e

    def _opened(self, result: object) -> None:
        self._isOpen = not isinstance(result, Failure)
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            if isinstance(result, Failure):
                d.errback(result)
            else:
                d.callback(None)

    def _query(self, f: Callable[[sqlite3.Connection], T]) -> Deferred[T]:
        """
        Run C{f(connection)} on the writer's thread: writes, in order.
        """
        deadline = time.monotonic() + self.busyTimeout

        def write() -> T:
            if self._db is None:
                raise Unavailable("the account store is closed")
            return _within(self._db, deadline, f)

        return self._ready().addCallback(lambda _: self._submit(self._pool, write))

    def _read(self, f: Callable[[sqlite3.Connection], T]) -> Deferred[T]:
        """
        Run C{f(connection)} on a reading thread, beside any pending write.
        """
        deadline = time.monotonic() + self.busyTimeout

        def read() -> T:
            with self._readersLock:
                db = self._idleReaders.pop() if self._idleReaders else None
            if db is None:
                try:
                    db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                    db.execute("PRAGMA query_only = ON")
                except sqlite3.Error as e:
                    raise Unavailable(f"cannot open the account database: {e}") from e
            try:
                return _within(db, deadline, f)
            finally:
                with self._readersLock:
                    self._idleReaders.append(db)

        return self._ready().addCallback(lambda _: self._submit(self._readPool, read))

    def write(self, f: Callable[[sqlite3.Connection], T]) -> Deferred[T]:
        """
        Run C{f(connection)} on the writer's thread, in order with every
        other write; see L{atomically} for several statements as one.
        """
        return self._query(f)

    def read(self, f: Callable[[sqlite3.Connection], T]) -> Deferred[T]:
        """
        Run C{f(connection)} on a reading thread (its connection is read-only).
        """
        return self._read(f)

    def open(self) -> Deferred[None]:
        """
        Start the database threads and open (or create, or upgrade) the file.

        On failure the store stays up: each later call tries to open the
        file again, and fails with L{Unavailable} while it cannot.
        """
        self._pool.start()
        self._readPool.start()
        return self._ready()

    def openNow(self) -> None:
        """
        Open (or create, or upgrade) the file here and now, then start the
        database threads: for a server that must not start without it.

        This blocks, so it is for start-up, before the reactor runs and
        before any call could be made on the writer's thread.

        @raise Unavailable: if the file cannot be used; nothing is started.
        """
        self._connect()
        self._isOpen = True
        self._pool.start()
        self._readPool.start()

    def close(self) -> Deferred[None]:
        """
        Let running calls finish, close every connection, stop the threads.
        """
        if not self._pool.started:
            return succeed(None)
        self._closing = True

        def disconnect() -> None:
            db, self._db = self._db, None
            with self._readersLock:
                readers, self._idleReaders = self._idleReaders, []
            for each in [*readers, *([] if db is None else [db])]:
                each.close()

        def stopped(result: object) -> object:
            self._isOpen = False
            self._pool.stop()
            self._readPool.stop()
            return result

        d = DeferredList(list(self._running))
        d.addCallback(lambda _: self._run(self._pool, disconnect))
        return d.addBoth(stopped).addCallback(lambda _: None)

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

        return self._read(query)

    def lookAlike(self, skeleton: str, shownSkeleton: str) -> Deferred[str | None]:
        """
        The name of an account whose skeleton is C{skeleton} (see
        L{chatroom.names.key}) or whose shown skeleton is C{shownSkeleton}
        (see L{chatroom.names.shownKey}), if there is one.
        """

        def query(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "SELECT name FROM accounts WHERE skeleton = ? OR shown_skeleton = ? LIMIT 1",
                (skeleton, shownSkeleton),
            ).fetchone()
            return None if row is None else row[0]

        return self._read(query)

    def create(self, nameKey: str, name: str, passwordHash: str) -> Deferred[bool]:
        """
        Register an account; C{False} if the name, or a look-alike of it
        (same L{chatroom.names.key} or same L{chatroom.names.shownKey}), is
        already registered.

        The Deferred fires only once the row is committed to disk.
        """

        def insert(db: sqlite3.Connection) -> bool:
            try:
                # One statement, so that the check and the insert are atomic.
                cursor = db.execute(
                    "INSERT INTO accounts"
                    " (name_key, name, password_hash, created, skeleton, shown_skeleton)"
                    " SELECT :nameKey, :name, :hash, :created, :skeleton, :shown"
                    " WHERE NOT EXISTS (SELECT 1 FROM accounts"
                    " WHERE skeleton = :skeleton OR shown_skeleton = :shown)",
                    {
                        "nameKey": nameKey,
                        "name": name,
                        "hash": passwordHash,
                        "created": int(time.time()),
                        "skeleton": names.key(name),
                        "shown": names.shownKey(name),
                    },
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


def _within(db: sqlite3.Connection, deadline: float, f: Callable[[sqlite3.Connection], T]) -> T:
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
