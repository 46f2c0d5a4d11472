"""
The room's memory of public messages (protocol 1.1): the last N kept in
memory, which answers C{C HISTORY}, and in the database, so that they
survive a restart.

Saying something must stay cheap, so the room only appends each message to
the in-memory tail and to a pending batch. The batch is written on the
store's writer thread at most L{WRITE_INTERVAL} seconds after its first
message, in one transaction that also deletes whatever fell out of the last
N. A crash loses at most that one batch; a clean stop writes it first.
"""

from __future__ import annotations

import time
from collections import deque
from itertools import islice
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom.settings import HISTORY as HISTORY
from chatroom.store import Said, Store, Unavailable

#: Seconds between a batch's first message and its write to the database: what a crash can
#: lose.
WRITE_INTERVAL = 0.1

#: Seconds before a batch that could not be written is tried again.
RETRY_INTERVAL = 1.0

#: Seconds between two console lines about history trimmed.
REPORT_INTERVAL = 60.0


def timestamp(milliseconds: int) -> str:
    """
    A time as the protocol shows it: UTC, RFC 3339, with milliseconds
    (C{2026-11-21T10:52:07.123Z}).
    """
    seconds, millis = divmod(milliseconds, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


class History:
    """
    The last C{size} public messages, oldest first.

    @ivar size: how many are kept (0: none).
    @ivar tail: the messages, in memory.
    """

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        size: int = HISTORY,
        store: Store | None = None,
        interval: float = WRITE_INTERVAL,
    ) -> None:
        """
        @param store: where the messages are kept; without one (a room
            without accounts has no database) they live in memory only.
        """
        self.size = size
        self.tail: deque[Said] = deque(maxlen=size)
        self._clock = clock
        self._store = store
        self._interval = interval
        self._pending: list[Said] = []
        self._call: IDelayedCall | None = None
        # The load, or the batch being written: one at a time, so rows keep their order.
        self._writing: Deferred[Any] | None = None  # the one write in flight
        self._waiters: list[Deferred[None]] = []
        self._stopped = False
        self._failing = False
        self._trimmed = 0
        self._reported = clock.seconds()

    def add(self, at: int, sender: str, transport: str, text: str) -> None:
        """
        Remember a public message (C{at} in milliseconds since the epoch):
        the only work done per message, so kept to two appends.
        """
        said = (at, sender, transport, text)
        self.tail.append(said)
        if self._store is None:
            return
        self._pending.append(said)
        if self._call is None:
            self._call = self._clock.callLater(self._interval, self._flush)

    def remember(self, said: Said) -> None:
        """
        A public message said on another node (several nodes): in memory
        only, since its own node writes it to the shared database.
        """
        self.tail.append(said)

    def last(self, count: int) -> list[Said]:
        """
        The newest C{count} messages (at most L{size}), oldest first.
        """
        return list(islice(self.tail, max(0, len(self.tail) - count), None))

    def start(self) -> None:
        """
        Load the tail from the database, deleting what is beyond L{size}
        (all of it when history is off). Messages said meanwhile come after.
        """
        if self._store is None:
            return
        self._writing = d = self._store.loadHistory(self.size)
        d.addCallbacks(self._loaded, self._loadFailed).addBoth(self._next)

    def stop(self) -> Deferred[None]:
        """
        Write the last batch (after the one being written, if any).
        """
        self._stopped = True
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        if self._writing is None:
            return self._last(None)
        waiter: Deferred[None] = Deferred()
        self._waiters.append(waiter)
        return waiter.addCallback(self._last)

    def _last(self, ignored: object) -> Deferred[None]:
        self._flush()
        self._report()
        return succeed(None) if self._writing is None else self._writing

    def _loaded(self, result: tuple[list[Said], int]) -> None:
        rows, trimmed = result
        tail = deque(rows, maxlen=self.size)
        tail.extend(self.tail)
        self.tail = tail
        self.log.info(
            "history: {count} public messages loaded, {trimmed} older ones deleted",
            count=len(rows),
            trimmed=trimmed,
        )

    def _loadFailed(self, failure: Failure) -> None:
        self.log.warn("history: cannot load the stored messages: {why}", why=failure.value)

    def _flush(self) -> None:
        self._call = None
        if self._writing is not None or not self._pending or self._store is None:
            return  # the write in flight schedules the next one
        batch, self._pending = self._pending, []
        self._writing = d = self._store.appendHistory(batch, self.size)
        d.addCallbacks(self._written, self._failed, errbackArgs=(batch,)).addBoth(self._next)

    def _written(self, trimmed: int) -> None:
        if self._failing:
            self._failing = False
            self.log.info("history: writing to the database again")
        self._trimmed += trimmed
        if self._clock.seconds() - self._reported >= REPORT_INTERVAL:
            self._report()

    def _report(self) -> None:
        if self._trimmed:
            self.log.info(
                "history: {count} older messages deleted (the last {size} are kept)",
                count=self._trimmed,
                size=self.size,
            )
        self._trimmed = 0
        self._reported = self._clock.seconds()

    def _failed(self, failure: Failure, batch: list[Said]) -> None:
        if not failure.check(Unavailable):
            self.log.failure("history: writing {count} messages", failure, count=len(batch))
        elif not self._failing:
            self.log.warn("history: cannot write to the database: {why}", why=failure.value)
        self._failing = True
        # Tried again, before what came since; only the newest can matter.
        self._pending[:0] = batch
        del self._pending[: -self.size or len(self._pending)]
        if self._stopped:
            self.log.warn("history: {count} messages not written", count=len(self._pending))

    def _next(self, ignored: object) -> None:
        self._writing = None
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(None)
        if self._pending and self._call is None and not self._stopped:
            delay = RETRY_INTERVAL if self._failing else self._interval
            self._call = self._clock.callLater(delay, self._flush)
