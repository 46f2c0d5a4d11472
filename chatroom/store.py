"""
What a store is, whichever database holds it: the calls the room, the
accounts, the history and the inbox make (L{Store}), what they get back,
and how they fail (L{Unavailable}, L{InboxFull}).

The stores themselves are L{chatroom.sqlitestore} (a file) and
L{chatroom.pgstore} (PostgreSQL), both built on L{chatroom.threadedstore};
their SQL is in L{chatroom.statements}. Code that only uses a store imports
this module, and neither database's driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from twisted.internet.defer import Deferred

from chatroom.settings import BUSY_TIMEOUT as BUSY_TIMEOUT

#: Threads (each with its own connection) that answer reads.
READERS = 2

#: A message as kept: (milliseconds since the epoch, sender, transport, text).
Said = tuple[int, str, str, str]


class Unavailable(Exception):
    """
    The database cannot do this right now: another program holds its lock
    for longer than the busy timeout, or the file cannot be opened or read.
    Nothing was changed; the same call may succeed later.
    """


class InboxFull(Exception):
    """
    The recipient already has as many kept messages as the server allows.
    """


@dataclass(frozen=True)
class Account:
    """
    A registered account as stored: never a password, only its hash.
    """

    name: str
    passwordHash: str


#: The roles an account may hold (protocol section 11), least first.
ROLES = ("user", "moderator", "admin")

#: What a sanction forbids: logging in, or speaking.
BAN, MUTE = "ban", "mute"


@dataclass(frozen=True)
class AccountRow:
    """
    An account as listed (never its hash): C{created} in seconds since the epoch.
    """

    name: str
    key: str
    role: str
    created: int


@dataclass(frozen=True)
class Sanction:
    """
    A ban or a mute (C{kind}: L{BAN} or L{MUTE}) of the account C{key} (shown as C{name}),
    until C{until} (milliseconds since the epoch; L{None}: forever), set by C{actor} at C{at}.
    """

    key: str
    name: str
    kind: str
    until: int | None
    reason: str
    actor: str
    at: int

    def inForce(self, nowMs: int) -> bool:
        """Whether it still holds at C{nowMs}."""
        return self.until is None or self.until > nowMs


@dataclass(frozen=True)
class AuditRecord:
    """
    One moderation action as audited: when (ms), on which node, who did what to whom, the end
    it set (ms, or L{None}) and why.
    """

    at: int
    node: str
    actor: str
    action: str
    target: str
    until: int | None
    reason: str


class Store(Protocol):
    """
    What the room, the accounts, the history and the inbox need of a database:
    L{chatroom.sqlitestore.AccountStore} (SQLite) or L{chatroom.pgstore.PostgresStore}.

    Accounts are known by their account key, L{chatroom.names.caseless} of
    the name. Each call is one statement of L{chatroom.statements}, made on
    the store's threads; writes keep the order they were asked in.

    @ivar path: what C{--db} named, for messages (never with a password).
    """

    path: str

    def open(self) -> Deferred[None]: ...

    def openNow(self) -> None: ...

    def close(self) -> Deferred[None]: ...

    def answers(self) -> Deferred[None]:
        """Fires once the database has answered the smallest question."""

    # Accounts (L{chatroom.statements.accounts})

    def lookup(self, accountKey: str) -> Deferred[Account | None]: ...

    def lookAlike(self, skeleton: str, shownSkeleton: str) -> Deferred[str | None]: ...

    def create(self, accountKey: str, name: str, passwordHash: str) -> Deferred[bool]: ...

    def setPasswordHash(self, accountKey: str, passwordHash: str) -> Deferred[None]: ...

    def roleOf(self, accountKey: str) -> Deferred[str | None]: ...

    def setRole(self, accountKey: str, role: str) -> Deferred[bool]: ...

    def roles(self) -> Deferred[dict[str, str]]: ...

    def accountList(self) -> Deferred[list[AccountRow]]: ...

    def deleteAccount(self, accountKey: str, erase: bool) -> Deferred[bool]: ...

    # Moderation (L{chatroom.statements.moderation})

    def addSanction(self, sanction: Sanction) -> Deferred[None]: ...

    def removeSanction(self, accountKey: str, kind: str) -> Deferred[bool]: ...

    def sanctionsInForce(self, nowMs: int) -> Deferred[list[Sanction]]: ...

    def sanctionsOf(self, accountKey: str, nowMs: int) -> Deferred[list[Sanction]]: ...

    def slow(self) -> Deferred[int]: ...

    def setSlow(self, seconds: int) -> Deferred[None]: ...

    def appendAudit(self, record: AuditRecord) -> Deferred[None]: ...

    def auditLog(self, limit: int) -> Deferred[list[AuditRecord]]: ...

    def changes(self) -> Deferred[int]: ...

    # History (L{chatroom.statements.history})

    def loadHistory(self, keep: int) -> Deferred[tuple[list[Said], int]]: ...

    def appendHistory(self, batch: list[Said], keep: int) -> Deferred[int]: ...

    # Inbox (L{chatroom.statements.inbox})

    def keepInInbox(
        self, recipientKey: str, said: Said, limit: int
    ) -> Deferred[tuple[str, int] | None]: ...

    def inboxOf(self, recipientKey: str, since: int) -> Deferred[list[tuple[int, Said]]]: ...

    def deleteFromInbox(self, ids: list[int]) -> Deferred[None]: ...

    def expireInbox(self, before: int) -> Deferred[int]: ...
