"""
What moderation decided, as this node knows it (protocol section 11): the roles of the staff,
the bans and mutes in force, slow mode; and the checks the room makes with them at each login
and each message (L{Rulebook.mayPublic}, L{Rulebook.mayDirect}, L{Rulebook.bannedAt}).

The database holds all of it, shared by every node and by C{chatroom-admin}; each node keeps a
copy in memory, because a check per message cannot wait for the database. The copy follows the
database by polling its change counter (bumped by every write, in the same transaction) once a
second: when it moved, everything is read again, and what a reload found (accounts banned or
deleted meanwhile) is handed to the room to act on. So a change made on another node, or by
C{chatroom-admin}, holds here within about a second; a change made here holds here at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from twisted.internet.defer import Deferred, FirstError, gatherResults
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import names
from chatroom.codec import Err
from chatroom.durations import shown
from chatroom.pipeline import Session
from chatroom.store import BAN, MUTE, Sanction, Store, Unavailable

#: Seconds between two looks at the database's change counter.
POLL_INTERVAL = 1.0

#: The roles that may moderate.
STAFF = frozenset({"moderator", "admin"})


class Copy(Enum):
    """
    How this node's copy stands against the database.
    """

    EMPTY = "EMPTY"  # never read (or the first reading failed): logins are refused
    READING = "READING"  # a reading is under way (logins wait for the first one)
    REREAD = "REREAD"  # a reading is under way, and another must follow it at once
    CURRENT = "CURRENT"  # as of the last change counted
    STALE = "STALE"  # read before, but the last reading failed; the next poll tries again


@dataclass(frozen=True)
class Reloaded:
    """
    What a reading found changed since the one before: accounts newly banned (their
    sanctions), and accounts deleted (their keys).
    """

    banned: list[Sanction]
    deleted: set[str]


def accountKey(session: Session) -> str:
    """
    The account key of a session logged in.
    """
    assert session.name is not None  # logged in, so named
    return names.caseless(session.name)


class Rulebook:
    """
    This node's copy of the moderation state, and the checks made with it.

    @ivar roles: the role of every account that is not a plain C{user}, by account key.
    @ivar bans: the bans read, by account key (each checked for its end when used).
    @ivar mutes: the mutes read, likewise.
    @ivar slow: slow mode's seconds between two public messages of a user; 0: off.
    @ivar copy: how the copy stands (L{Copy}).
    @ivar changed: called with what each reading after the first found changed.
    """

    def __init__(
        self,
        clock: IReactorTime,
        store: Store | None,
        log: Logger,
        interval: float = POLL_INTERVAL,
    ) -> None:
        self.clock = clock
        self.store = store
        self.log = log
        self.roles: dict[str, str] = {}
        self.bans: dict[str, Sanction] = {}
        self.mutes: dict[str, Sanction] = {}
        self.slow = 0
        self.copy = Copy.EMPTY
        self.changed: Callable[[Reloaded], None] = lambda reloaded: None
        self._seen: int | None = None
        self._accounts: set[str] | None = None
        self._waiting: list[Deferred[None]] = []
        # When each user last said something in public (clock seconds), for slow mode.
        self._spoke: dict[str, float] = {}
        self._poller = LoopingCall(self.poll)
        self._poller.clock = clock
        self._interval = interval

    # Following the database.

    def start(self) -> None:
        if self.store is None:
            self.copy = Copy.CURRENT
            return
        self._poller.start(self._interval, now=True)

    def stop(self) -> None:
        if self._poller.running:
            self._poller.stop()

    @property
    def read(self) -> bool:
        """
        Whether the copy was read at least once.
        """
        return self._seen is not None or self.store is None

    def settled(self) -> Deferred[None] | None:
        """
        L{None} if no reading is under way; else a Deferred that fires once it (and any
        reading asked for meanwhile) is done: a login waits for it, so that a ban another node
        just made, whose reading its expulsion started here, holds for that login.
        """
        if self.copy not in (Copy.READING, Copy.REREAD):
            return None
        waiting: Deferred[None] = Deferred()
        self._waiting.append(waiting)
        return waiting

    def poll(self) -> Deferred[None] | None:
        """
        Read everything again if the change counter moved since the last reading.
        """
        if self.store is None:
            return None
        if self.copy in (Copy.READING, Copy.REREAD):
            # What is read now may be older than what the caller knows changed.
            self.copy = Copy.REREAD
            return None
        store = self.store
        before = self.copy
        self.copy = Copy.READING

        def counted(changes: int) -> Deferred[None] | None:
            if changes == self._seen and before is Copy.CURRENT:
                self._readDone()
                return None
            reading: Deferred[list[Any]] = gatherResults(
                [
                    store.roles(),
                    store.sanctionsInForce(self._nowMs()),
                    store.slow(),
                    store.accountList(),
                ],
                consumeErrors=True,
            )
            return reading.addCallback(self._read, changes)

        d: Deferred[Any] = store.changes().addCallback(counted)
        return d.addErrback(self._failed, before).addCallback(self._again)

    def _again(self, _: object) -> Deferred[None] | None:
        if self.copy is not Copy.REREAD:
            waiting, self._waiting = self._waiting, []
            for each in waiting:
                each.callback(None)
            return None
        # Stale: the next reading reads everything, whatever the counter says.
        self.copy = Copy.STALE if self._seen is not None else Copy.EMPTY
        return self.poll()

    def _readDone(self) -> None:
        if self.copy is Copy.READING:
            self.copy = Copy.CURRENT

    def _read(self, results: list[object], changes: int) -> None:
        roles, sanctions, slow, accounts = results
        assert isinstance(roles, dict) and isinstance(sanctions, list)
        assert isinstance(slow, int) and isinstance(accounts, list)
        bans = {s.key: s for s in sanctions if s.kind == BAN}
        mutes = {s.key: s for s in sanctions if s.kind == MUTE}
        keys = {account.key for account in accounts}
        reloaded = Reloaded(
            [s for key, s in bans.items() if self.bans.get(key) != s],
            set() if self._accounts is None else self._accounts - keys,
        )
        first = self._seen is None
        self.roles, self.bans, self.mutes, self.slow = roles, bans, mutes, slow
        self._accounts, self._seen = keys, changes
        self._readDone()
        self._forgetQuiet()
        if not first and (reloaded.banned or reloaded.deleted):
            self.changed(reloaded)

    def _failed(self, failure: Failure, before: Copy) -> None:
        if failure.check(FirstError):
            failure = failure.value.subFailure
        self.copy = Copy.STALE if self._seen is not None else Copy.EMPTY
        if not failure.check(Unavailable):  # a bug of ours: logged, and polling goes on
            self.log.failure("reading the moderation state", failure)
            return
        if before is not self.copy:
            self.log.warn(
                "moderation state not read, tried again each second: {why}", why=failure.value
            )

    def _nowMs(self) -> int:
        return int(self.clock.seconds() * 1000)

    # What this node changed itself: holds here at once.

    def sanctioned(self, sanction: Sanction) -> None:
        (self.bans if sanction.kind == BAN else self.mutes)[sanction.key] = sanction

    def lifted(self, key: str, kind: str) -> None:
        (self.bans if kind == BAN else self.mutes).pop(key, None)

    def setRole(self, key: str, role: str) -> None:
        if role in STAFF:
            self.roles[key] = role
        else:
            self.roles.pop(key, None)

    def setSlow(self, seconds: int) -> None:
        self.slow = seconds

    # The checks.

    def roleOf(self, key: str) -> str:
        return self.roles.get(key, "user")

    def isStaff(self, key: str) -> bool:
        return self.roles.get(key) in STAFF

    def bannedAt(self, key: str) -> Sanction | None:
        """
        The ban of the account C{key} in force now, if any.
        """
        ban = self.bans.get(key)
        return ban if ban is not None and ban.inForce(self._nowMs()) else None

    def mutedAt(self, key: str) -> Sanction | None:
        """
        The mute of the account C{key} in force now, if any.
        """
        mute = self.mutes.get(key)
        return mute if mute is not None and mute.inForce(self._nowMs()) else None

    def mayPublic(self, session: Session) -> tuple[Err, str] | None:
        """
        Why C{session} may not say something in public now (C{MUTED}, C{SLOW}), or L{None}.
        """
        if not self.mutes and not self.slow:
            return None  # the usual room: nothing to look up
        key = accountKey(session)
        mute = self.mutedAt(key)
        if mute is not None:
            return Err.MUTED, shown(mute.until)
        if self.slow and not self.isStaff(key):
            last = self._spoke.get(key)
            now = self.clock.seconds()
            if last is not None and now < last + self.slow:
                return Err.SLOW, str(max(1, math.ceil(last + self.slow - now)))
        return None

    def spoke(self, session: Session) -> None:
        """
        C{session} said something in public: slow mode counts from now.
        """
        if self.slow:
            self._spoke[accountKey(session)] = self.clock.seconds()

    def mayDirect(self, session: Session, recipient: str) -> tuple[Err, str] | None:
        """
        Why C{session} may not send a direct message to C{recipient} (as typed) now
        (C{MUTED}, unless to a moderator or an admin), or L{None}.
        """
        if not self.mutes:
            return None
        mute = self.mutedAt(accountKey(session))
        if mute is None or self.isStaff(names.caseless(recipient)):
            return None
        return Err.MUTED, shown(mute.until)

    def marked(self, entries: list[str]) -> list[str]:
        """
        C{C USERS} entries (C{name:transport}) with C{@} before moderators and admins.
        """
        if not self.roles:
            return entries
        return [
            f"@{entry}" if self.isStaff(names.caseless(entry.rpartition(":")[0])) else entry
            for entry in entries
        ]

    def _forgetQuiet(self) -> None:
        """
        Forget when users last spoke if that no longer holds them back.
        """
        now = self.clock.seconds()
        self._spoke = {k: t for k, t in self._spoke.items() if now < t + self.slow}
