"""
The room: who may connect, the verbs (one table: arguments, required phase,
handler), join and leave notices, and the console log of it all.

It is composed of plain objects, each given what it needs: logging in is a
L{Login} (which lets sessions in through the room's L{welcome} and
L{replace}), what the verbs do once allowed (public and direct messages) is
a L{Talk}, and presence is reached only through an L{IRoster}. It sees
decoded frames from the L{chatroom.pipeline}; its limits are one
L{RoomLimits}.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom import codec, names
from chatroom.codec import Err, Frame, FrameError, Reason
from chatroom.console import Console
from chatroom.counters import Counters
from chatroom.history import History, Said, timestamp
from chatroom.inbox import Inbox
from chatroom.lifecycle import LOGGING_IN, Phase
from chatroom.limits import TokenBucket
from chatroom.login import AccountBook, Login
from chatroom.moderation import Moderation
from chatroom.passwd import PasswordChange
from chatroom.pipeline import IChannel, IDoorway, Session
from chatroom.roster import IRoster, Roster
from chatroom.rulebook import Rulebook
from chatroom.settings import RoomLimits
from chatroom.store import Store, Unavailable
from chatroom.talk import Talk


class Args(Enum):
    """
    What may follow a verb.
    """

    NONE = "none"  # nothing at all
    WORD = "word"  # at most one word
    TEXT = "text"  # anything: the handler reads it


Handler = Callable[[Session, Frame], "Deferred | None"]

_ANY = frozenset(Phase) - {Phase.ENDED}


@dataclass(frozen=True, slots=True)
class Verb:
    """
    One row of the verb table. A frame in a phase outside C{phases} gets
    C{ERR STATE <refusal>}; wrong arguments get C{ERR BAD_FRAME}.
    """

    args: Args
    phases: frozenset[Phase]
    refusal: str
    handler: Handler


@implementer(IDoorway)
class Room(Service):
    """
    One chat room: every session, and the rules of coming and going.

    @ivar sessions: every session, logged in or not.
    @ivar roster: presence and name reservations.
    @ivar login: the login flow, with each session's attempt.
    @ivar talk: the verbs of sessions logged in.
    """

    def __init__(
        self,
        clock: IReactorTime,
        accounts: AccountBook | None,
        roster: IRoster | None = None,
        store: Store | None = None,
        limits: RoomLimits | None = None,
        node: str | None = None,
    ) -> None:
        """
        @param roster: presence; by default this process's alone.
        @param store: the database that keeps public messages, and direct
            messages for offline users (as C{limits} says); without it, and
            without C{accounts}, history lives in memory and no message is
            kept.
        @param limits: the room's limits; by default, the options' defaults.
        @param node: this server's name in the moderation audit (the host's by default).
        """
        limits = limits if limits is not None else RoomLimits()
        self.clock = clock
        self.log: Console = Console(clock, f"{__name__}.{type(self).__qualname__}", self)
        self.limits = limits
        self.counters = Counters()
        self.roster: IRoster = roster if roster is not None else Roster()
        self._perHost: dict[str, int] = {}
        self.sessions: set[Session] = set()
        # Login deadlines in start order, so expiry stops at the first live one.
        self._deadlines: dict[Session, float] = {}
        self._sweeper = LoopingCall(self._expireLogins)
        self._sweeper.clock = clock
        self.history = History(clock, limits.history, store)
        self.inbox: Inbox | None = None
        if store is not None and accounts is not None and limits.inbox > 0:
            self.inbox = Inbox(store, clock, limits.inbox, limits.inboxDays)
        self.login = Login(clock, self.log, accounts, self.roster, self, limits, self.counters)
        # Moderation needs accounts: without them there are no roles (every verb is DENIED).
        self.rulebook = Rulebook(clock, store if accounts is not None else None, self.log)
        self.moderation = Moderation(
            clock,
            self.log,
            store if accounts is not None else None,
            self.roster,
            self.rulebook,
            self.counters,
            node or socket.gethostname(),
        )
        self.passwd = PasswordChange(
            self.log,
            accounts,
            self.login.failures,
            clock,
            self.counters,
            limits.maxWrongPasswords,
        )
        self.talk = Talk(
            clock, self.log, self.roster, self.history, self.inbox, self.counters, self.rulebook
        )
        loggedOut = _ANY - {Phase.ACTIVE}
        active = frozenset({Phase.ACTIVE})
        talk = self.talk
        self.verbs: dict[str, Verb] = {
            "LOGIN": Verb(Args.TEXT, loggedOut, "already logged in as {name}", self._login),
            "PASS": Verb(
                Args.TEXT,
                frozenset({Phase.AWAITING_PASSWORD, Phase.ACTIVE}),
                "send C LOGIN first",
                self._password,
            ),
            "PASSWD": Verb(Args.NONE, active, "log in first", self.passwd.start),
            "PM": Verb(Args.NONE, active, "log in first", talk.startPublic),
            "DM": Verb(Args.NONE, active, "log in first", talk.startDirect),
            "WHO": Verb(Args.NONE, active, "log in first", talk.who),
            "HISTORY": Verb(Args.WORD, active, "log in first", talk.recall),
            "PING": Verb(Args.WORD, _ANY, "", talk.ping),
            "EX": Verb(Args.NONE, _ANY, "", talk.exit),
        }
        for verb, (args, handler) in self.moderation.verbs().items():
            self.verbs[verb] = Verb(Args(args), active, "log in first", handler)

    def _login(self, session: Session, frame: Frame) -> Deferred | None:
        """
        C{C LOGIN}: refused to a banned account (1.2), else logging in goes on.
        """
        return self.moderation.login(session, frame, self.login.login)

    def _password(self, session: Session, frame: Frame) -> Deferred | None:
        """
        C{C PASS}: a login's password, or (logged in) a password change's (1.2).
        """
        if session.life.phase is Phase.ACTIVE:
            return self.passwd.password(session, frame)
        return self.login.password(session, frame)

    # Service lifecycle.

    def startService(self) -> None:
        super().startService()
        self._sweeper.start(min(1.0, self.limits.loginTimeout / 4), now=False)
        self.history.start()
        self.rulebook.start()
        if self.inbox is not None:
            self.inbox.start()

    def stopService(self) -> Deferred[None]:
        """
        Say C{BYE SHUTDOWN} to everyone, wait for them to go, write the
        last batch of history (the account store, a service of its own,
        closes after that).
        """
        super().stopService()
        if self._sweeper.running:
            self._sweeper.stop()
        self.rulebook.stop()
        if self.inbox is not None:
            self.inbox.stop()
        bye = codec.command("BYE", Reason.SHUTDOWN)
        closing = [session.close(bye, Reason.SHUTDOWN) for session in list(self.sessions)]
        d: Deferred = DeferredList(closing)
        d.addCallback(lambda _: self.history.stop())
        d.addCallback(lambda _: self.log.info("chatroom stopped"))
        return d

    # Sessions coming and going.

    def connect(self, channel: IChannel, greeted: bool = False) -> Session | None:
        """
        A client arrived. Returns its session, or L{None} if it was refused
        (the room is full, or the server is stopping).

        @param greeted: the transport already sent C{HELLO} (UDP does, to
            prove the client's address before the session counts).
        """
        limits = self.limits
        if not self.running or len(self.sessions) >= limits.maxClients:
            self._refuse(channel, "the server is full, try later")
            return None
        fromHost = self._perHost.get(channel.host, 0)
        if limits.maxPerHost and fromHost >= limits.maxPerHost:
            self._refuse(channel, "too many sessions from your address")
            return None
        bucket = None
        if limits.msgRate > 0:
            bucket = TokenBucket(limits.msgRate, limits.msgBurst, self.clock.seconds())
        session = Session(self, channel, bucket, limits.floodLimit, limits.inboxHigh)
        self.sessions.add(session)
        self._perHost[channel.host] = fromHost + 1
        self._deadlines[session] = self.clock.seconds() + limits.loginTimeout
        self.log.info(
            "new {transport} connection from {peer}",
            transport=channel.transportName,
            peer=channel.peer,
        )
        if not greeted:
            session.send(codec.hello(channel.transportName))
        return session

    def _refuse(self, channel: IChannel, reason: str) -> None:
        self.log.info(
            "refused {transport} connection from {peer}: {reason}",
            transport=channel.transportName,
            peer=channel.peer,
            reason=reason,
        )
        channel.send(codec.command("ERR", Err.FULL, reason))
        channel.close()

    def ended(self, session: Session, previous: Phase, reason: str) -> None:
        """
        Forget a session that ended and tell the room, once, however it ended.
        """
        if previous in LOGGING_IN:
            self.roster.release(session)
        self.login.forget(session)
        self.talk.ended(session)
        self.passwd.forget(session)
        self.sessions.discard(session)
        self._deadlines.pop(session, None)
        host = session.channel.host
        if self._perHost.get(host, 0) > 1:
            self._perHost[host] -= 1
        else:
            self._perHost.pop(host, None)
        transport = session.channel.transportName
        if previous is not Phase.ACTIVE:
            self.log.info("{label} disconnected ({reason})", label=session.label, reason=reason)
            return
        assert session.name is not None  # named by welcome, on entering ACTIVE
        self.roster.leave(session)
        self.log.info(
            "{name} [{transport}] has left the chat. ({reason})",
            name=session.name,
            transport=transport,
            reason=reason,
        )
        if reason != Reason.SHUTDOWN:
            self.roster.broadcast(codec.command("LEAVE", session.name, transport, reason), session)
        if reason == Reason.BANNED:
            # Banned from another node, maybe: read the ban now, not at the next poll, so
            # that a quick return to this node is refused too.
            self.rulebook.poll()

    def welcome(self, session: Session, name: str) -> Deferred[None] | None:
        """
        C{session}'s login succeeded as C{name}: it is present now, once
        the direct messages kept for it are read (1.1), to be handed over
        right after C{C WELCOME}. The session's frames wait meanwhile.
        """
        if self.moderation.refused(session, name):  # banned while logging in
            self.login.giveUp(session)
            return None
        if self.inbox is None:
            self._enter(session, name, [])
            return None

        def unread(failure: Failure) -> list[tuple[int, Said]]:
            failure.trap(Unavailable)
            self.log.warn(
                "{name}'s stored direct messages not read, kept for later: {why}",
                name=name,
                why=failure.value,
            )
            return []

        d = self.inbox.waiting(name).addErrback(unread)
        return d.addCallback(lambda kept: self._enter(session, name, kept))

    def _enter(self, session: Session, name: str, kept: list[tuple[int, Said]]) -> None:
        if session.life.ended:
            return  # gone while its messages were read: they stay kept
        transport = session.channel.transportName
        self._deadlines.pop(session, None)
        self.roster.release(session)
        self.counters.login("ok")
        self.login.forget(session)
        session.life.move(Phase.ACTIVE)
        session.name = name
        session.lookalikeKey = names.key(name)
        self.roster.enter(session)
        session.send(
            codec.command(
                "WELCOME", name, transport, f"Welcome {name}, you are connected via {transport}."
            )
        )
        if kept:
            assert self.inbox is not None  # nothing is kept without one
            session.send(codec.command("INBOX", str(len(kept))))
            for _, (at, sender, via, text) in kept:
                session.send(codec.data("INBOX", timestamp(at), sender, via, text))
            self.inbox.handedOver(name, [i for i, _ in kept])
        self.roster.broadcast(codec.command("JOIN", name, transport), session)
        self.log.info(
            "{name} [{transport}] has connected. Welcome!", name=name, transport=transport
        )

    def replace(self, session: Session, old: Session, name: str) -> Deferred[None] | None:
        """
        C{GHOST} (1.1): C{session} proved to be C{old}'s user. C{old} ends
        (C{BYE REPLACED}, the others C{LEAVE … REPLACED}) and C{session}
        enters, in one turn of the reactor: nobody can take the name between.
        """
        if self.moderation.refused(session, name):  # banned while logging in
            self.login.giveUp(session)
            return None
        self.log.info(
            "{old} replaced by a new login from {peer} [{transport}]",
            old=old.label,
            peer=session.channel.peer,
            transport=session.channel.transportName,
        )
        old.close(codec.command("BYE", Reason.REPLACED), Reason.REPLACED)
        return self.welcome(session, name)

    def _expireLogins(self) -> None:
        now = self.clock.seconds()
        self.login.forgetOld()
        for session, deadline in list(self._deadlines.items()):
            if deadline > now:
                break
            self.log.info("{label} did not log in in time", label=session.label)
            session.close(codec.command("ERR", Err.STATE, "login timed out"), Reason.CLOSED)

    # Frames, from the pipeline.

    def failed(self, failure: Failure, session: Session) -> None:
        self.log.failure("handling a frame from {label}", failure, label=session.label)
        session.error(Err.STATE, "the server failed to handle that, try again")

    def handle(self, session: Session, item: Frame | FrameError) -> Deferred | None:
        """
        Act on one frame, by the verb table; a data frame carries the text
        of the C{PM} or C{DM} before it.
        """
        waiting = self.talk.pending(session, item)
        if waiting is not None:  # after the answers to public messages on their way
            return waiting.addCallback(
                lambda _: None if session.life.ended else self.handle(session, item)
            )
        if isinstance(item, FrameError):
            if item.kind == codec.DATA:
                self.talk.forget(session)
            session.error(item.code, item.reason)
            return None
        if item.kind == codec.DATA:
            return self.talk.data(session, item)
        verb = self.verbs.get(item.verb)
        if verb is None:
            if codec.isVerb(item.verb):
                session.error(Err.UNKNOWN, f"unknown command {item.verb}")
            else:
                session.error(Err.UNKNOWN, "verbs are upper-case letters")
            return None
        if session.life.phase not in verb.phases:
            session.error(Err.STATE, verb.refusal.format(name=session.name))
            return None
        if verb.args is Args.NONE and item.rest:
            session.error(Err.BAD_FRAME, f"{item.verb} takes no arguments")
            return None
        if verb.args is Args.WORD and " " in item.rest:
            session.error(Err.BAD_FRAME, f"{item.verb} takes at most one word")
            return None
        return verb.handler(session, item)
