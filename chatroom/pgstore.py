"""
The store in PostgreSQL (C{--db postgresql://...}): accounts, history and stored direct
messages, for a deployment whose database must outlive one machine, or be shared by several
chatroom nodes.

It answers the same calls as the SQLite store (L{chatroom.store.Store}), and the room, the
accounts, the history and the inbox run the same query functions on it. Those functions speak
SQLite's dialect; the differences are few, and all of them are here or in
L{chatroom.pgconnect}: C{?} and C{:name} placeholders become psycopg's C{%s} and C{%(name)s}
(L{chatroom.pgconnect.Connection}); every call is one
transaction, so L{chatroom.store.atomically} adds none; ids are identity columns
(C{schema/postgresql}); registering locks the accounts' skeletons for the transaction and
ignores a taken name (C{ON CONFLICT}), since other nodes may register at the same moment.

psycopg's calls block, so, as with SQLite, they run on threads of their own: one writer (writes
keep the order they were asked in: a user's stored messages, the history's batches) and a few
readers. Each call may take at most the busy timeout counted from when it was asked, enforced by
the server (C{statement_timeout}); a server that cannot be reached, or that cut the connection,
or a call that timed out, fails with L{Unavailable}, and the next call connects again, so the
store recovers by itself when PostgreSQL is back.

A server that stops answering altogether (frozen, or its machine gone without a word) cannot
enforce its own timeout: the reactor then gives up on the call a little after its deadline
(L{Unavailable}; its thread stays stuck until the server answers), and closing the store cuts
the sockets of calls still stuck after L{CLOSE_TIMEOUT}, so a node always stops.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from twisted.internet.defer import Deferred, DeferredList, TimeoutError, fail, succeed
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from chatroom import names
from chatroom.migrations import DatabaseError
from chatroom.pgconnect import Connection, connect, oneLine, redacted
from chatroom.store import BUSY_TIMEOUT, READERS, Account, Unavailable

T = TypeVar("T")

#: Seconds past a call's deadline after which the reactor stops waiting for a server that
#: could not even say it timed out.
GRACE = 1.0

#: Seconds closing the store waits for running calls before cutting their connections.
CLOSE_TIMEOUT = 2.0

#: Advisory lock key (another of our own, beside L{chatroom.pgconnect}'s): one node at a time
#: registers a name.
_ACCOUNTS_LOCK = 0x636861_02


class PostgresStore:
    """
    Accounts, history and stored direct messages in PostgreSQL: L{chatroom.store.Store}.

    @ivar path: the URL, without its password (for messages).
    """

    def __init__(
        self, reactor: IReactorFromThreads, url: str, busyTimeout: float = BUSY_TIMEOUT
    ) -> None:
        self.url = url
        self.path = redacted(url)
        self.busyTimeout = busyTimeout
        self._reactor = reactor
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="chatroom-pg")
        self._readPool = ThreadPool(minthreads=0, maxthreads=READERS, name="chatroom-pg-read")
        # The writer's connection (writer thread only), and the readers' idle ones.
        self._writer: psycopg.Connection[Any] | None = None
        self._idleReaders: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._schemaChecked = False
        self._closing = False
        self._running: set[Deferred[None]] = set()
        # Connections in the middle of a call, so that closing can cut a stuck one.
        self._busy: set[psycopg.Connection[Any]] = set()

    # Threads

    def _connect(self, readOnly: bool) -> psycopg.Connection[Any]:
        try:
            if self._schemaChecked:
                db = psycopg.connect(
                    self.url, autocommit=True, connect_timeout=max(1, round(self.busyTimeout))
                )
            else:
                db = connect(self.url, self.busyTimeout)
                self._schemaChecked = True
        except psycopg.Error as e:
            raise Unavailable(f"cannot reach the database: {oneLine(e, self.url)}") from e
        db.read_only = readOnly
        return db

    def _call(self, db: psycopg.Connection[Any], deadline: float, f: Callable[[Any], T]) -> T:
        """
        C{f} in one transaction on C{db}, within C{deadline} (C{time.monotonic}).
        """
        remaining = int((deadline - time.monotonic()) * 1000)
        if remaining <= 0:
            raise Unavailable("the database did not answer in time")
        with self._lock:
            self._busy.add(db)
        try:
            with db.transaction():
                db.execute("SELECT set_config('statement_timeout', %s, true)", (str(remaining),))
                return f(Connection(db))
        except (psycopg.IntegrityError, psycopg.ProgrammingError, psycopg.DataError):
            raise  # our own doing, not the database's state
        except psycopg.Error as e:
            raise Unavailable(f"the database: {oneLine(e)}") from e
        finally:
            with self._lock:
                self._busy.discard(db)

    def _cut(self) -> None:
        """
        Shut down the sockets of the calls still running: their threads, blocked on a server
        that does not answer, get an error and end.
        """
        with self._lock:
            stuck = list(self._busy)
        for db in stuck:
            try:
                # shutdown() acts on the socket itself, so a duplicate descriptor will do.
                with socket.socket(fileno=os.dup(db.pgconn.socket)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
            except (OSError, psycopg.Error):
                pass  # closed meanwhile: that thread is not stuck

    def _write(self, deadline: float, f: Callable[[Any], T]) -> T:
        if self._writer is None or self._writer.closed:
            self._writer = self._connect(readOnly=False)
        try:
            return self._call(self._writer, deadline, f)
        finally:
            if self._writer.broken:
                self._writer.close()
                self._writer = None

    def _read(self, deadline: float, f: Callable[[Any], T]) -> T:
        with self._lock:
            db = self._idleReaders.pop() if self._idleReaders else None
        if db is None:
            db = self._connect(readOnly=True)
        try:
            return self._call(db, deadline, f)
        finally:
            if db.broken or db.closed:
                db.close()
            else:
                with self._lock:
                    self._idleReaders.append(db)

    def _submit(self, pool: ThreadPool, job: Callable[..., T], *args: object) -> Deferred[T]:
        """
        Run C{job} on C{pool}; its answer, or L{Unavailable} if none comes in time (the
        thread may still be stuck: L{close} sees to it).
        """
        if self._closing or not pool.started:
            return fail(Unavailable("the store is closed"))
        thread = deferToThreadPool(self._reactor, pool, job, *args)
        done: Deferred[None] = Deferred()
        self._running.add(done)

        def finished(result: object) -> object:
            self._running.discard(done)
            done.callback(None)
            return result

        thread.addBoth(finished)
        answer: Deferred[T] = Deferred()
        thread.chainDeferred(answer)  # a late answer, after the timeout, is dropped
        seconds = self.busyTimeout + GRACE
        answer.addTimeout(seconds, self._reactor)  # type: ignore[arg-type]
        return answer.addErrback(_frozen, seconds)

    # The store's interface

    def write(self, f: Callable[[Any], T]) -> Deferred[T]:
        """
        Run C{f(connection)} in one transaction on the writer's thread, in order with every
        other write.
        """
        return self._submit(self._pool, self._write, time.monotonic() + self.busyTimeout, f)

    def read(self, f: Callable[[Any], T]) -> Deferred[T]:
        """
        Run C{f(connection)} in one read-only transaction on a reading thread.
        """
        return self._submit(self._readPool, self._read, time.monotonic() + self.busyTimeout, f)

    def open(self) -> Deferred[None]:
        """
        Start the threads and connect (creating or upgrading the schema); on failure each later
        call tries again.
        """
        self._pool.start()
        self._readPool.start()
        return self.write(lambda db: None)

    def openNow(self) -> None:
        """
        Connect (creating or upgrading the schema) here and now, then start the threads: for a
        server that must not start without its database. Blocks: for start-up only.

        @raise Unavailable: if the database cannot be used; nothing is started.
        """
        try:
            self._writer = connect(self.url, self.busyTimeout)
        except (psycopg.Error, DatabaseError) as e:
            raise Unavailable(oneLine(e, self.url)) from None
        self._schemaChecked = True
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
            writer, self._writer = self._writer, None
            with self._lock:
                readers, self._idleReaders = self._idleReaders, []
            for each in [*readers, *([] if writer is None else [writer])]:
                each.close()

        def stopped(result: object) -> object:
            self._pool.stop()
            self._readPool.stop()
            return result

        # Calls still stuck in a frozen server by then are cut, so that their threads end.
        cutting = self._reactor.callLater(CLOSE_TIMEOUT, self._cut)  # type: ignore[attr-defined]
        d: Deferred[Any] = DeferredList(list(self._running))
        d.addCallback(lambda _: cutting.active() and cutting.cancel())
        d.addCallback(lambda _: deferToThreadPool(self._reactor, self._pool, disconnect))
        return d.addBoth(stopped).addCallback(lambda _: None)

    # Accounts

    def lookup(self, nameKey: str) -> Deferred[Account | None]:
        """
        The account registered under C{nameKey} (see L{chatroom.names.caseless}).
        """

        def query(db: Connection) -> Account | None:
            row = db.execute(
                "SELECT name, password_hash FROM accounts WHERE name_key = ?", (nameKey,)
            ).fetchone()
            return None if row is None else Account(row[0], row[1])

        return self.read(query)

    def lookAlike(self, skeleton: str, shownSkeleton: str) -> Deferred[str | None]:
        """
        The name of an account with this skeleton or this shown skeleton, if there is one.
        """

        def query(db: Connection) -> str | None:
            row = db.execute(
                "SELECT name FROM accounts WHERE skeleton = ? OR shown_skeleton = ? LIMIT 1",
                (skeleton, shownSkeleton),
            ).fetchone()
            return None if row is None else str(row[0])

        return self.read(query)

    def create(self, nameKey: str, name: str, passwordHash: str) -> Deferred[bool]:
        """
        Register an account; C{False} if the name or a look-alike of it is already registered,
        on this node or any other. Fires once the row is committed.
        """

        def insert(db: Connection) -> bool:
            # Registrations take turns (one lock for the transaction): the look-alike check and
            # the insert are atomic even against another node's registration.
            db.execute("SELECT pg_advisory_xact_lock(?)", (_ACCOUNTS_LOCK,))
            cursor = db.execute(
                "INSERT INTO accounts"
                " (name_key, name, password_hash, created, skeleton, shown_skeleton)"
                " SELECT :nameKey, :name, :hash, :created, :skeleton, :shown"
                " WHERE NOT EXISTS (SELECT 1 FROM accounts"
                " WHERE skeleton = :skeleton OR shown_skeleton = :shown)"
                " ON CONFLICT (name_key) DO NOTHING",
                {
                    "nameKey": nameKey,
                    "name": name,
                    "hash": passwordHash,
                    "created": int(time.time()),
                    "skeleton": names.key(name),
                    "shown": names.shownKey(name),
                },
            )
            return cursor.rowcount == 1

        return self.write(insert)

    def setPasswordHash(self, nameKey: str, passwordHash: str) -> Deferred[None]:
        """
        Replace an account's hash (when its hashing parameters are raised).
        """

        def update(db: Connection) -> None:
            db.execute(
                "UPDATE accounts SET password_hash = ? WHERE name_key = ?", (passwordHash, nameKey)
            )

        return self.write(update)


def _frozen(failure: Failure, seconds: float) -> Failure:
    """
    A call the reactor stopped waiting for is L{Unavailable}, like one the server refused.
    """
    if failure.check(TimeoutError):
        return Failure(Unavailable(f"the database did not answer within {seconds:g} s"))
    return failure
