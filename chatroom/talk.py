"""
The room's talking: public and direct messages, who is online, the history,
C{PING} and C{EX}, the handlers that the verb table of L{chatroom.room.Room}
points to.

They live apart from the room's sessions and their comings and goings, so
each module reads as one job; L{Talk} is given the presence, the history and
the inbox it talks through, and keeps the one thing of its own: which
session's next data frame carries the text of a C{C PM} or C{C DM}.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from chatroom import codec, names
from chatroom.codec import Err, Frame, FrameError, Reason
from chatroom.console import Console
from chatroom.counters import DIRECT, PUBLIC, Counters
from chatroom.history import History, Said, timestamp
from chatroom.inbox import Inbox, InboxFull
from chatroom.inorder import InOrder
from chatroom.lifecycle import Phase
from chatroom.pipeline import Session
from chatroom.refusals import clusterUnavailable
from chatroom.roster import IRoster
from chatroom.store import Unavailable


class Gate(Protocol):
    """
    What moderation (protocol 1.2) asks of talking: L{chatroom.rulebook.Rulebook}.
    """

    def mayPublic(self, session: Session) -> tuple[Err, str] | None:
        """Why C{session} may not say something in public now, or L{None}."""

    def spoke(self, session: Session) -> None:
        """C{session} said something in public."""

    def mayDirect(self, session: Session, recipient: str) -> tuple[Err, str] | None:
        """Why C{session} may not send a direct message to C{recipient} now, or L{None}."""

    def marked(self, entries: list[str]) -> list[str]:
        """C{C USERS} entries with moderators and admins marked."""


class Awaiting(Enum):
    """
    The text a session's next data frame carries (C{C PM} or C{C DM} sent).
    """

    PUBLIC = "PM"
    DIRECT = "DM"


class Talk:
    """
    The verbs' handlers of a room: what its sessions say, and to whom.

    @ivar roster: presence, through which messages reach the others.
    @ivar history: the public messages kept for C{C HISTORY}.
    @ivar inbox: direct messages kept for users offline, if any are kept.
    """

    def __init__(
        self,
        clock: IReactorTime,
        log: Console,
        roster: IRoster,
        history: History,
        inbox: Inbox | None,
        counters: Counters,
        gate: Gate,
    ) -> None:
        self.clock = clock
        self.log = log
        self.roster = roster
        self.history = history
        self.inbox = inbox
        self.counters = counters
        self.gate = gate
        # Sessions that sent C PM or C DM, until their data frame (or an
        # error in its place) comes: only those few, never every session.
        self._awaiting: dict[Session, Awaiting] = {}
        # Answers to public messages still on their way through Redis, and
        # what was answered after them (several nodes only).
        self._order = InOrder()

    def forget(self, session: Session) -> None:
        """
        C{session}'s data frame was refused, or another command came: expect no text from it.
        """
        self._awaiting.pop(session, None)

    def ended(self, session: Session) -> None:
        """
        C{session} ended: nothing more is expected from it, nor answered to it.
        """
        self.forget(session)
        self._order.forget(session)

    def pending(self, session: Session, item: Frame | FrameError) -> Deferred[None] | None:
        """
        What C{item} must wait for: L{None} if it may be handled now, else a Deferred
        that fires once the answers to C{session}'s public messages on their way are out.
        A C{C PM} and its text go on at once (their own answers wait in line), so that a
        sender's pipelined messages reach Redis together.
        """
        if not self._order.busy(session):
            return None
        if isinstance(item, Frame):
            if item.kind == codec.COMMAND and item.verb == "PM":
                return None
            if item.kind == codec.DATA and self._awaiting.get(session) is Awaiting.PUBLIC:
                return None
        return self._order.whenDone(session)

    # The verbs.

    def startPublic(self, session: Session, frame: Frame) -> None:
        self._awaiting[session] = Awaiting.PUBLIC
        ack = codec.command("ACK", "PM")
        self._order.then(session, lambda: session.send(ack))

    def startDirect(self, session: Session, frame: Frame) -> Deferred[None] | None:
        self._awaiting[session] = Awaiting.DIRECT
        return self._sendUserList(session)

    def who(self, session: Session, frame: Frame) -> Deferred[None] | None:
        self.forget(session)
        return self._sendUserList(session)

    def _sendUserList(self, session: Session) -> Deferred[None] | None:
        """
        Send who is online, sorted case-insensitively, in as many
        C{C USERS} frames as it takes (1.1): a frame of 70 long non-ASCII
        names would be over the clients' limit, and one of 560 over what a
        datagram can carry. On several nodes the list comes from Redis.
        """
        entries = self.roster.entries()
        if isinstance(entries, Deferred):
            return entries.addCallbacks(
                self._sendEntries, self._clusterUnavailable, (session,), {}, (session, "C USERS")
            )
        self._sendEntries(entries, session)
        return None

    def _sendEntries(self, entries: list[str], session: Session) -> None:
        for frame in codec.listFrames("USERS", self.gate.marked(entries)):
            session.send(frame)

    def _clusterUnavailable(self, failure: Failure, session: Session, verb: str) -> None:
        """
        Redis (several nodes) did not answer: the client is told, nothing
        was half done, no text is expected.
        """
        failure.trap(Unavailable)
        self.forget(session)
        clusterUnavailable(failure, session, self.log, f"{verb} not done")

    def recall(self, session: Session, frame: Frame) -> None:
        """
        C{C HISTORY [n]} (1.1): the last C{n} public messages, at most (and
        by default) as many as are kept, oldest first; from memory.
        """
        count = self.history.size
        if frame.rest:
            if not (frame.rest.isascii() and frame.rest.isdigit()):
                session.error(Err.BAD_FRAME, "C HISTORY takes a number of messages, 0 or more")
                return
            if len(frame.rest) < 10:
                count = min(count, int(frame.rest))
        said = self.history.last(count)
        session.send(codec.command("HISTORY", str(len(said))))
        for at, sender, transport, text in said:
            session.send(codec.data("HISTORY", timestamp(at), sender, transport, text))

    def ping(self, session: Session, frame: Frame) -> None:
        session.send(codec.command("PONG", frame.rest) if frame.rest else codec.command("PONG"))

    def exit(self, session: Session, frame: Frame) -> None:
        session.close(codec.command("BYE", Reason.EXIT), Reason.EXIT)

    def data(self, session: Session, frame: Frame) -> Deferred[None] | None:
        """
        A data frame: the text of the C{C PM} or C{C DM} before it.
        """
        if session.life.phase is not Phase.ACTIVE:
            session.error(Err.STATE, "log in first")
            return None
        name = session.name
        assert name is not None  # named by welcome, on entering ACTIVE
        awaiting = self._awaiting.pop(session, None)
        if awaiting is Awaiting.PUBLIC:
            return self._public(session, name, frame.rest)
        elif awaiting is Awaiting.DIRECT:
            return self._direct(session, name, frame)
        else:
            session.error(Err.STATE, "send C PM or C DM first")
        return None

    def _public(self, session: Session, name: str, text: str) -> Deferred[None] | None:
        if not text:
            self._order.then(session, lambda: session.error(Err.BAD_TEXT, "the message is empty"))
            return None
        refusal = self.gate.mayPublic(session)
        if refusal is not None:
            self._order.then(session, lambda: session.error(*refusal))
            return None
        transport = session.channel.transportName
        said = (int(self.clock.seconds() * 1000), name, transport, text)
        count = self.roster.say(codec.data("PM", name, transport, text), session, said)
        if isinstance(count, Deferred):
            # Several nodes: said once Redis has it; answered in order (L{InOrder}).
            # Slow mode counts from now, so that a pipelined next message is held to it.
            self.gate.spoke(session)
            self._order.after(
                session,
                count,
                lambda present: self._said(present, session, said),
                lambda failure: self._publicFailed(failure, session),
            )
            return None
        self._said(count, session, said)
        return None

    def _publicFailed(self, failure: Failure, session: Session) -> None:
        """
        A public message that reached nobody: its sender is told, in its turn.
        """
        if failure.check(Unavailable):
            clusterUnavailable(failure, session, self.log, "C PM not done")
            return
        self.log.warn(
            "{label}: public message not said: {why}", label=session.label, why=failure.value
        )
        session.error(Err.STATE, "the server failed to handle that, try again")

    def _said(self, count: int, session: Session, said: Said) -> None:
        self.gate.spoke(session)
        self.counters.said(PUBLIC, count)
        session.send(codec.command("OK", "PM", str(count)))
        if self.history.size:
            self.history.add(*said)
        self.log.public(*said[1:])

    def _direct(self, session: Session, name: str, frame: Frame) -> Deferred[None] | None:
        parts = frame.words(1)
        if len(parts) < 2 or not parts[1]:
            session.error(Err.BAD_TEXT, "send D <username> <text>")
            return None
        refusal = self.gate.mayDirect(session, parts[0])
        if refusal is not None:
            session.error(*refusal)
            return None
        target = self.roster.find(names.key(parts[0]))
        if target is None:
            message = codec.data("DM", name, session.channel.transportName, parts[1])
            handed = self.roster.elsewhere(names.key(parts[0]), message)
            if handed is not None:  # several nodes: on another, or nowhere
                return handed.addCallbacks(
                    self._handedOver,
                    self._clusterUnavailable,
                    (session, name, parts[0], parts[1]),
                    {},
                    (session, "C DM"),
                )
        if target is None and self.inbox is not None:
            return self._keepDirect(session, name, parts[0], parts[1])
        if target is None:
            session.error(Err.NO_SUCH_USER, f"{parts[0]} is not online")
            return None
        assert target.name is not None  # present, so named
        transport = session.channel.transportName
        target.send(codec.data("DM", name, transport, parts[1]))
        self.counters.said(DIRECT, 1)
        session.send(codec.command("OK", "DM", target.name))
        self.log.info(
            "{name}[{transport}] sent a direct message to {target}",
            name=name,
            transport=transport,
            target=target.label,
        )
        return None

    def _handedOver(
        self, shown: str | None, session: Session, name: str, recipient: str, text: str
    ) -> Deferred[None] | None:
        """
        A direct message to another node's user: C{shown} is their name once
        their session has it; L{None} if nobody had it (left meanwhile, or
        their node died): then it is kept for them, as for anyone offline.
        """
        if shown is not None:
            self.counters.said(DIRECT, 1)
            session.send(codec.command("OK", "DM", shown))
            self.log.info(
                "{name} sent a direct message to {target} on another node", name=name, target=shown
            )
            return None
        if self.inbox is not None:
            return self._keepDirect(session, name, recipient, text)
        session.error(Err.NO_SUCH_USER, f"{recipient} is not online")
        return None

    def _keepDirect(self, session: Session, name: str, recipient: str, text: str) -> Deferred[None]:
        """
        A direct message to someone offline (1.1): kept if they have an
        account, answered once it is on disk; the session's next frames
        wait for that.
        """
        assert self.inbox is not None  # only called with one
        d = self.inbox.keep(recipient, name, session.channel.transportName, text)

        def kept(shown: str | None) -> None:
            if shown is None:
                session.error(Err.NO_SUCH_USER, f"{recipient} is not online")
            else:
                self.counters.said(DIRECT, 0)  # handed over at their next login
                session.send(codec.command("OK", "DM", shown, "STORED"))

        def refused(failure: Failure) -> Failure | None:
            if failure.check(InboxFull):
                full = f"{failure.value.args[0]} has too many stored messages; try later"
                session.error(Err.INBOX_FULL, full)
                return None
            if failure.check(Unavailable):
                self.log.warn(
                    "{label}: direct message not stored, database unavailable: {why}",
                    label=session.label,
                    why=failure.value,
                )
                session.error(Err.UNAVAILABLE, "the database is busy right now; try again later")
                return None
            return failure

        return d.addCallbacks(kept, refused)
