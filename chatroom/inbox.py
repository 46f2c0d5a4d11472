"""
Direct messages kept for registered users who are offline (protocol 1.1),
handed over right after their next C{C WELCOME}.

A message is on disk before its sender hears C{C OK DM <name> STORED}, and
is deleted only once it was handed to its recipient's session, so a
recipient whose connection dies while logging in keeps it. Messages older
than the retention period are deleted, at start-up and then every hour.
Everything runs on the store's threads; the console names senders and
recipients, never the text.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import names
from chatroom.settings import INBOX, INBOX_DAYS
from chatroom.store import InboxFull, Said, Store

#: Seconds between two deletions of messages past their days.
EXPIRY_INTERVAL = 3600.0


class Inbox:
    """
    The kept direct messages of every registered user.
    """

    log = Logger()

    def __init__(
        self,
        store: Store,
        clock: IReactorTime,
        limit: int = INBOX,
        days: float = INBOX_DAYS,
    ) -> None:
        self.limit = limit
        self.days = days
        self._store = store
        self._clock = clock
        self._expiry = LoopingCall(self.expire)
        self._expiry.clock = clock

    def start(self) -> None:
        self._expiry.start(EXPIRY_INTERVAL, now=True)

    def stop(self) -> None:
        if self._expiry.running:
            self._expiry.stop()

    def _now(self) -> int:
        return int(self._clock.seconds() * 1000)

    def _oldest(self) -> int:
        """
        The time (in milliseconds) before which a kept message is too old.
        """
        return self._now() - int(self.days * 86400 * 1000)

    def keep(self, recipient: str, sender: str, transport: str, text: str) -> Deferred[str | None]:
        """
        Keep a direct message for C{recipient}, who is offline.

        Fires, once it is on disk, with the recipient's registered
        spelling, or with L{None} if no account has that name; fails with
        L{InboxFull}, or L{chatroom.store.Unavailable}.
        """
        said = (self._now(), sender, transport, text)
        d = self._store.keepInInbox(names.caseless(recipient), said, self.limit)

        def kept(result: tuple[str, int] | None) -> str | None:
            if result is None:
                return None
            name, count = result
            self.log.info(
                "stored a direct message from {sender} for {recipient} ({count} waiting)",
                sender=sender,
                recipient=name,
                count=count,
            )
            return name

        def full(failure: Failure) -> Failure:
            if failure.check(InboxFull):
                self.log.info(
                    "not stored: {recipient}'s inbox is full ({limit}), from {sender}",
                    recipient=failure.value.args[0],
                    limit=self.limit,
                    sender=sender,
                )
            return failure

        return d.addCallbacks(kept, full)

    def waiting(self, name: str) -> Deferred[list[tuple[int, Said]]]:
        """
        The messages kept for the account C{name}, oldest first, each with
        the id that L{handedOver} takes; none older than L{days}, even
        before L{expire} deleted them.
        """
        return self._store.inboxOf(names.caseless(name), self._oldest())

    def handedOver(self, name: str, ids: list[int]) -> Deferred[None]:
        """
        The messages C{ids} were written to C{name}'s session: delete them.
        """
        self.log.info(
            "handed {count} stored direct messages to {recipient}", count=len(ids), recipient=name
        )
        d = self._store.deleteFromInbox(ids)
        d.addErrback(
            lambda f: self.log.warn(
                "stored direct messages to {recipient} not deleted (handed over again"
                " at the next login): {why}",
                recipient=name,
                why=f.value,
            )
        )
        return d

    def expire(self) -> Deferred[None]:
        """
        Delete the messages older than L{days}.
        """
        d = self._store.expireInbox(self._oldest())

        def expired(count: int) -> None:
            if count:
                self.log.info(
                    "deleted {count} stored direct messages older than {days:g} days",
                    count=count,
                    days=self.days,
                )

        def failed(failure: Failure) -> None:
            self.log.warn("cannot delete old stored direct messages: {why}", why=failure.value)

        return d.addCallbacks(expired, failed)
