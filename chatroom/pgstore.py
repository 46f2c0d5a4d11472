"""
The store in PostgreSQL (C{--db postgresql://...}): accounts, history and stored direct
messages, for a deployment whose database must outlive one machine, or be shared by several
chatroom nodes.

It answers the same calls as the SQLite store (L{chatroom.store.Store}): both are
L{chatroom.threadedstore.ThreadedStore}s running the same statements (L{chatroom.statements}),
which speak SQLite's dialect; L{chatroom.pgconnect.Connection} translates the few differences
(placeholders, transactions, locks between nodes), and ids are identity columns
(C{schema/postgresql}). What is PostgreSQL's is here: how it connects, and how a call is timed.

As with SQLite, calls run on threads of the store's own: one writer and a few readers. Each
call may take at most the busy timeout counted from when it was asked, enforced by
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
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from twisted.internet.defer import Deferred, TimeoutError, fail
from twisted.internet.interfaces import IReactorFromThreads
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from chatroom.migrations import DatabaseError
from chatroom.pgconnect import Connection, connect, oneLine, redacted
from chatroom.store import BUSY_TIMEOUT, Unavailable
from chatroom.threadedstore import ThreadedStore

T = TypeVar("T")

#: Seconds past a call's deadline after which the reactor stops waiting for a server that
#: could not even say it timed out.
GRACE = 1.0

#: Seconds closing the store waits for running calls before cutting their connections.
CLOSE_TIMEOUT = 2.0


class PostgresStore(ThreadedStore[psycopg.Connection[Any]]):
    """
    Accounts, history and stored direct messages in PostgreSQL: L{chatroom.store.Store}.

    @ivar url: the URL, password and all (to connect with).
    @ivar path: the URL, without its password (for messages).
    """

    def __init__(
        self, reactor: IReactorFromThreads, url: str, busyTimeout: float = BUSY_TIMEOUT
    ) -> None:
        super().__init__(reactor, redacted(url), busyTimeout, "chatroom-pg")
        self.url = url
        self._schemaChecked = False
        # Connections in the middle of a call, so that closing can cut a stuck one.
        self._busy: set[psycopg.Connection[Any]] = set()

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

    def _connectWriter(self) -> psycopg.Connection[Any]:
        return self._connect(readOnly=False)

    def _connectReader(self) -> psycopg.Connection[Any]:
        return self._connect(readOnly=True)

    def _usable(self, db: psycopg.Connection[Any]) -> bool:
        return not (db.broken or db.closed)

    def _within(
        self, db: psycopg.Connection[Any], deadline: float, f: Callable[[Connection], T]
    ) -> T:
        """
        C{f} in one transaction on C{db}, within C{deadline} (C{time.monotonic}), enforced by
        the server (C{statement_timeout}).
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

    def _submit(self, pool: ThreadPool, job: Callable[..., T], *args: object) -> Deferred[T]:
        """
        Run C{job} on C{pool}; its answer, or L{Unavailable} if none comes in time (the
        thread may still be stuck: L{close} sees to it).
        """
        if self._closing or not pool.started:
            return fail(Unavailable("the store is closed"))
        thread = self._run(pool, job, *args)
        answer: Deferred[T] = Deferred()
        thread.chainDeferred(answer)  # a late answer, after the timeout, is dropped
        seconds = self.busyTimeout + GRACE
        answer.addTimeout(seconds, self._reactor)  # type: ignore[arg-type]
        return answer.addErrback(_frozen, seconds)

    def _runningEnded(self) -> Deferred[Any]:
        # Calls still stuck in a frozen server by then are cut, so that their threads end.
        cutting = self._reactor.callLater(CLOSE_TIMEOUT, self._cut)  # type: ignore[attr-defined]
        d = super()._runningEnded()
        return d.addCallback(lambda _: cutting.active() and cutting.cancel())

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
        self._startThreads()


def _frozen(failure: Failure, seconds: float) -> Failure:
    """
    A call the reactor stopped waiting for is L{Unavailable}, like one the server refused.
    """
    if failure.check(TimeoutError):
        return Failure(Unavailable(f"the database did not answer within {seconds:g} s"))
    return failure
