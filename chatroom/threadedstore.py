"""
What both stores share (L{chatroom.sqlitestore}, L{chatroom.pgstore}): their threads, and
their calls, each one statement of L{chatroom.statements}.

Database drivers block, so their calls never run on the reactor thread. A store has a
one-thread pool for writes, on a single connection, so that writes keep the order they were
asked in (a user's stored messages, the history's batches), and a small pool of readers, each
call on an idle connection of its own, so that a write stuck behind a lock does not stall the
logins queued after it. Every call may take at most the busy timeout, counted from when it was
asked; closing the store waits for the calls running, then closes every connection.

What differs between the engines is left to each store (L{ThreadedStore}'s hooks): how it
connects, how a call runs on a connection (its transaction, its timeout, which errors mean
L{Unavailable}), and how a call is handed to a thread.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from chatroom.statements import Connection, accounts, answers, history, inbox, moderation
from chatroom.store import READERS, Account, AccountRow, AuditRecord, Said, Sanction, Unavailable

T = TypeVar("T")
P = ParamSpec("P")


class Closable(Protocol):
    """
    What the threads do with a driver's connection themselves: close it.
    """

    def close(self) -> None: ...


#: The driver's own connection (C{sqlite3}'s, psycopg's).
DB = TypeVar("DB", bound=Closable)


def _nothing(db: Connection) -> None:
    pass


class ThreadedStore(ABC, Generic[DB]):
    """
    A store whose calls run on threads of its own: L{chatroom.store.Store}, less how it
    connects. Each store says that in L{openNow} and four hooks: L{_connectWriter},
    L{_connectReader}, L{_within} and L{_submit} (and L{_usable} if a connection can break).

    @ivar path: what C{--db} named, for messages (never with a password).
    @ivar busyTimeout: seconds a call may take, counted from when it was asked.
    """

    def __init__(
        self, reactor: IReactorFromThreads, path: str, busyTimeout: float, threadName: str
    ) -> None:
        self.path = path
        self.busyTimeout = busyTimeout
        self._reactor = reactor
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name=threadName)
        self._readPool = ThreadPool(minthreads=0, maxthreads=READERS, name=f"{threadName}-read")
        # The writer's connection: touched on the writer thread only (and before it starts).
        self._writer: DB | None = None
        # Readers' connections not in use right now, shared by the read threads.
        self._idleReaders: list[DB] = []
        self._lock = threading.Lock()
        # Reactor-thread state: whether close() began, and which calls run (it waits for them).
        self._closing = False
        self._running: set[Deferred[None]] = set()

    # How each store connects

    @abstractmethod
    def _connectWriter(self) -> DB:
        """
        A new connection for the writer's thread (on that thread), the schema brought up to
        date.

        @raise chatroom.store.Unavailable: if it cannot be had right now.
        """

    @abstractmethod
    def _connectReader(self) -> DB:
        """
        A new read-only connection, on a reading thread.

        @raise chatroom.store.Unavailable: if it cannot be had right now.
        """

    @abstractmethod
    def _within(self, db: DB, deadline: float, f: Callable[[Connection], T]) -> T:
        """
        C{f} on C{db}, given until C{deadline} (C{time.monotonic}); a failure of the
        database's own, rather than of the statement, as L{chatroom.store.Unavailable}.
        """

    def _usable(self, db: DB) -> bool:
        """
        Whether C{db} may serve another call (a connection the server cut may not).
        """
        return True

    @abstractmethod
    def _submit(self, pool: ThreadPool, job: Callable[..., T], *args: object) -> Deferred[T]:
        """
        C{job(*args)} on one of C{pool}'s threads (see L{_run}), or a failure with
        L{chatroom.store.Unavailable} if the store cannot take calls now.
        """

    # Threads

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

    def _startThreads(self) -> None:
        self._pool.start()
        self._readPool.start()

    def _onWriter(self, deadline: float, f: Callable[[Connection], T]) -> T:
        """
        C{f} on the writer's connection, (re)connecting first if need be.
        """
        writer = self._writer
        if writer is None or not self._usable(writer):
            writer = self._writer = self._connectWriter()
        try:
            return self._within(writer, deadline, f)
        finally:
            if not self._usable(writer):
                writer.close()
                self._writer = None

    def _onReader(self, deadline: float, f: Callable[[Connection], T]) -> T:
        """
        C{f} on an idle reader's connection, or a new one.

        An idle connection may have been cut by the server while it waited (PostgreSQL
        restarted): a read may be asked again, so it is, once, on a new connection.
        """
        with self._lock:
            idle = self._idleReaders.pop() if self._idleReaders else None
        if idle is not None:
            try:
                return self._readOn(idle, deadline, f)
            except Unavailable:
                if self._usable(idle):
                    raise
        return self._readOn(self._connectReader(), deadline, f)

    def _readOn(self, db: DB, deadline: float, f: Callable[[Connection], T]) -> T:
        """
        C{f} on the reader's connection C{db}, kept for the next read if still usable.
        """
        try:
            return self._within(db, deadline, f)
        finally:
            if self._usable(db):
                with self._lock:
                    self._idleReaders.append(db)
            else:
                db.close()

    def _runningEnded(self) -> Deferred[Any]:
        """
        Fires once every call running has ended.
        """
        return DeferredList(list(self._running))

    def _disconnect(self) -> None:
        """
        Close every connection (on the writer's thread, once no call runs).
        """
        writer, self._writer = self._writer, None
        with self._lock:
            readers, self._idleReaders = self._idleReaders, []
        for each in [*readers, *([] if writer is None else [writer])]:
            each.close()

    # Running statements

    def write(
        self, f: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> Deferred[T]:
        """
        C{f(connection, *args, **kwargs)} on the writer's thread, in order with every other
        write; L{Connection.atomically} makes several statements one transaction.
        """
        deadline = time.monotonic() + self.busyTimeout
        return self._submit(self._pool, self._onWriter, deadline, lambda db: f(db, *args, **kwargs))

    def read(
        self, f: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> Deferred[T]:
        """
        C{f(connection, *args, **kwargs)} on a reading thread (its connection is read-only),
        beside any pending write.
        """
        deadline = time.monotonic() + self.busyTimeout
        return self._submit(
            self._readPool, self._onReader, deadline, lambda db: f(db, *args, **kwargs)
        )

    # Opening and closing

    def open(self) -> Deferred[None]:
        """
        Start the threads and connect (creating or upgrading the schema).

        On failure the store stays up: each later call tries to connect again, and fails with
        L{chatroom.store.Unavailable} while it cannot.
        """
        self._startThreads()
        return self.write(_nothing)

    @abstractmethod
    def openNow(self) -> None:
        """
        Connect (creating or upgrading the schema) here and now, then start the threads: for a
        server that must not start without its database. Blocks: for start-up only.

        @raise chatroom.store.Unavailable: if the database cannot be used; nothing is started.
        """

    def close(self) -> Deferred[None]:
        """
        Let running calls finish, close every connection, stop the threads.
        """
        if not self._pool.started:
            return succeed(None)
        self._closing = True

        def stopped(result: object) -> object:
            self._pool.stop()
            self._readPool.stop()
            return result

        d = self._runningEnded()
        d.addCallback(lambda _: self._run(self._pool, self._disconnect))
        return d.addBoth(stopped).addCallback(lambda _: None)

    # The calls: each one statement, whose docstring says what it does.

    def answers(self) -> Deferred[None]:
        """L{chatroom.statements.answers}."""
        return self.read(answers)

    def lookup(self, accountKey: str) -> Deferred[Account | None]:
        """L{accounts.lookup}."""
        return self.read(accounts.lookup, accountKey)

    def lookAlike(self, skeleton: str, shownSkeleton: str) -> Deferred[str | None]:
        """L{accounts.lookAlike}."""
        return self.read(accounts.lookAlike, skeleton, shownSkeleton)

    def create(self, accountKey: str, name: str, passwordHash: str) -> Deferred[bool]:
        """L{accounts.create}: fires once the row is committed."""
        return self.write(accounts.create, accountKey, name, passwordHash)

    def setPasswordHash(self, accountKey: str, passwordHash: str) -> Deferred[None]:
        """L{accounts.setPasswordHash}."""
        return self.write(accounts.setPasswordHash, accountKey, passwordHash)

    def roleOf(self, accountKey: str) -> Deferred[str | None]:
        """L{accounts.roleOf}."""
        return self.read(accounts.roleOf, accountKey)

    def setRole(self, accountKey: str, role: str) -> Deferred[bool]:
        """L{accounts.setRole}."""
        return self.write(accounts.setRole, accountKey, role)

    def roles(self) -> Deferred[dict[str, str]]:
        """L{accounts.roles}."""
        return self.read(accounts.roles)

    def accountList(self) -> Deferred[list[AccountRow]]:
        """L{accounts.accountList}."""
        return self.read(accounts.accountList)

    def deleteAccount(self, accountKey: str, erase: bool) -> Deferred[bool]:
        """L{accounts.deleteAccount}."""
        return self.write(accounts.deleteAccount, accountKey, erase)

    def changes(self) -> Deferred[int]:
        """L{accounts.changes}."""
        return self.read(accounts.changes)

    def addSanction(self, sanction: Sanction) -> Deferred[None]:
        """L{moderation.addSanction}."""
        return self.write(moderation.addSanction, sanction)

    def removeSanction(self, accountKey: str, kind: str) -> Deferred[bool]:
        """L{moderation.removeSanction}."""
        return self.write(moderation.removeSanction, accountKey, kind)

    def sanctionsInForce(self, nowMs: int) -> Deferred[list[Sanction]]:
        """L{moderation.sanctionsInForce}."""
        return self.read(moderation.sanctionsInForce, nowMs)

    def sanctionsOf(self, accountKey: str, nowMs: int) -> Deferred[list[Sanction]]:
        """L{moderation.sanctionsOf}."""
        return self.read(moderation.sanctionsOf, accountKey, nowMs)

    def slow(self) -> Deferred[int]:
        """L{moderation.slow}."""
        return self.read(moderation.slow)

    def setSlow(self, seconds: int) -> Deferred[None]:
        """L{moderation.setSlow}."""
        return self.write(moderation.setSlow, seconds)

    def appendAudit(self, record: AuditRecord) -> Deferred[None]:
        """L{moderation.appendAudit}."""
        return self.write(moderation.appendAudit, record)

    def auditLog(self, limit: int) -> Deferred[list[AuditRecord]]:
        """L{moderation.auditLog}."""
        return self.read(moderation.auditLog, limit)

    def loadHistory(self, keep: int) -> Deferred[tuple[list[Said], int]]:
        """L{history.load}: a write, so that the batches written after it come after it."""
        return self.write(history.load, keep)

    def appendHistory(self, batch: list[Said], keep: int) -> Deferred[int]:
        """L{history.append}."""
        return self.write(history.append, batch, keep)

    def keepInInbox(
        self, recipientKey: str, said: Said, limit: int
    ) -> Deferred[tuple[str, int] | None]:
        """L{inbox.keep}: fires once the message is committed."""
        return self.write(inbox.keep, recipientKey, said, limit)

    def inboxOf(self, recipientKey: str, since: int) -> Deferred[list[tuple[int, Said]]]:
        """L{inbox.waiting}."""
        return self.read(inbox.waiting, recipientKey, since)

    def deleteFromInbox(self, ids: list[int]) -> Deferred[None]:
        """L{inbox.delete}."""
        return self.write(inbox.delete, ids)

    def expireInbox(self, before: int) -> Deferred[int]:
        """L{inbox.expire}."""
        return self.write(inbox.expire, before)
