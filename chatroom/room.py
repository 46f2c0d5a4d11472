"""
The room: who may connect, the verbs (one table: arguments, required phase,
handler), public and direct messages, join and leave notices, and the console
log of it all.

It sees decoded frames from the L{chatroom.pipeline} and reaches presence
only through an L{IRoster}; logging in is L{chatroom.login}'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from chatroom import codec, names
from chatroom.codec import Err, Frame, FrameError, Reason
from chatroom.console import Console
from chatroom.history import HISTORY, History, Said, timestamp
from chatroom.inbox import INBOX, INBOX_DAYS, Inbox, InboxFull
from chatroom.lifecycle import LOGGING_IN, Phase
from chatroom.limits import TokenBucket
from chatroom.login import MAX_WRONG_PASSWORDS, AccountBook, Login
from chatroom.pipeline import FLOOD_LIMIT, INBOX_HIGH, Awaiting, IChannel, Session
from chatroom.roster import IRoster, Roster
from chatroom.store import Store, Unavailable

# Defaults, written once: the twistd options show and use these.
LOGIN_TIMEOUT = 30.0
MAX_CLIENTS = 1000
MSG_RATE = 20.0  # frames a second, on average...
MSG_BURST = 40  # ...and at once
LOGIN_FAILURES = 20  # wrong passwords a minute from one address
# From one address: a classroom or office behind one NAT (40 people, some
# with two clients, all registering at the start of the lesson) fits, but
# one address cannot hold more than a few percent of the default 1000
# sessions, nor register accounts by the thousand.
MAX_PER_HOST = 64  # sessions at once
MAX_REGISTRATIONS = 60  # new accounts an hour


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


class Room(Service):
    """
    One chat room: every session and every rule but logging in.

    @ivar sessions: every session, logged in or not.
    @ivar roster: presence and name reservations.
    """

    def __init__(
        self,
        clock: IReactorTime,
        accounts: AccountBook | None,
        maxClients: int = MAX_CLIENTS,
        loginTimeout: float = LOGIN_TIMEOUT,
        msgRate: float = MSG_RATE,
        msgBurst: float = MSG_BURST,
        maxPerHost: int = 0,
        loginFailures: int = LOGIN_FAILURES,
        maxRegistrations: int = 0,
        floodLimit: float = FLOOD_LIMIT,
        inboxHigh: int = INBOX_HIGH,
        maxWrongPasswords: int = MAX_WRONG_PASSWORDS,
        roster: IRoster | None = None,
        history: int = HISTORY,
        store: Store | None = None,
        inbox: int = INBOX,
        inboxDays: float = INBOX_DAYS,
    ) -> None:
        """
        @param msgRate: frames a second a session may send on average (0:
            no limit), C{msgBurst} at once; C{floodLimit} seconds of refused
            frames drop the session.
        @param maxPerHost: sessions at once from one address (0: no limit).
        @param loginFailures: wrong passwords a minute from one address
            before its logins are refused for the rest of that minute.
        @param maxRegistrations: new accounts an hour from one address
            (0: no limit); beyond it, new names get C{ERR RATE}.
        @param history: public messages kept for C{C HISTORY} (0: none).
        @param store: the database that keeps them, and direct messages
            for offline users (C{inbox} at most per user, for C{inboxDays}
            days; C{inbox} 0: none are kept); without it, and without
            C{accounts}, history lives in memory and no message is kept.
        """
        self.clock = clock
        self.log: Console = Console(clock, f"{__name__}.{type(self).__qualname__}", self)
        self.accounts = accounts
        self.maxClients = maxClients
        self.loginTimeout = loginTimeout
        self.msgRate = msgRate
        self.msgBurst = msgBurst
        self.maxPerHost = maxPerHost
        self.floodLimit = floodLimit
        self.inboxHigh = inboxHigh
        self.roster: IRoster = roster if roster is not None else Roster()
        self.login = Login(self, loginFailures, maxRegistrations, maxWrongPasswords)
        self._perHost: dict[str, int] = {}
        self.sessions: set[Session] = set()
        # Login deadlines in start order, so expiry stops at the first live one.
        self._deadlines: dict[Session, float] = {}
        self._sweeper = LoopingCall(self._expireLogins)
        self._sweeper.clock = clock
        self.history = History(clock, history, store)
        self.inbox: Inbox | None = None
        if store is not None and accounts is not None and inbox > 0:
            self.inbox = Inbox(store, clock, inbox, inboxDays)
        loggedOut = _ANY - {Phase.ACTIVE}
        active = frozenset({Phase.ACTIVE})
        self.verbs: dict[str, Verb] = {
            "LOGIN": Verb(Args.TEXT, loggedOut, "already logged in as {name}", self.login.login),
            "PASS": Verb(
                Args.TEXT,
                frozenset({Phase.AWAITING_PASSWORD}),
                "send C LOGIN first",
                self.login.password,
            ),
            "PM": Verb(Args.NONE, active, "log in first", self._publicStart),
            "DM": Verb(Args.NONE, active, "log in first", self._directStart),
            "WHO": Verb(Args.NONE, active, "log in first", self._who),
            "HISTORY": Verb(Args.WORD, active, "log in first", self._history),
            "PING": Verb(Args.WORD, _ANY, "", self._ping),
            "EX": Verb(Args.NONE, _ANY, "", self._exit),
        }

    # Service lifecycle.

    def startService(self) -> None:
        super().startService()
        self._sweeper.start(min(1.0, self.loginTimeout / 4), now=False)
        self.history.start()
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
        if not self.running or len(self.sessions) >= self.maxClients:
            self._refuse(channel, "the server is full, try later")
            return None
        fromHost = self._perHost.get(channel.host, 0)
        if self.maxPerHost and fromHost >= self.maxPerHost:
            self._refuse(channel, "too many sessions from your address")
            return None
        bucket = None
        if self.msgRate > 0:
            bucket = TokenBucket(self.msgRate, self.msgBurst, self.clock.seconds())
        session = Session(self, channel, bucket, self.floodLimit, self.inboxHigh)
        self.sessions.add(session)
        self._perHost[channel.host] = fromHost + 1
        self._deadlines[session] = self.clock.seconds() + self.loginTimeout
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

    def welcome(self, session: Session, name: str) -> Deferred[None] | None:
        """
        C{session}'s login succeeded as C{name}: it is present now, once
        the direct messages kept for it are read (1.1), to be handed over
        right after C{C WELCOME}. The session's frames wait meanwhile.
        """
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
        session.life.move(Phase.ACTIVE)
        session.name = name
        session.nameKey = names.key(name)
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
        if isinstance(item, FrameError):
            if item.kind == codec.DATA:
                session.awaiting = None
            session.error(item.code, item.reason)
            return None
        if item.kind == codec.DATA:
            return self._data(session, item)
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

    # Talking.

    def _publicStart(self, session: Session, frame: Frame) -> None:
        session.awaiting = Awaiting.PUBLIC
        session.send(codec.command("ACK", "PM"))

    def _directStart(self, session: Session, frame: Frame) -> Deferred[None] | None:
        session.awaiting = Awaiting.DIRECT
        return self._sendUserList(session)

    def _who(self, session: Session, frame: Frame) -> Deferred[None] | None:
        session.awaiting = None
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
        for frame in codec.listFrames("USERS", entries):
            session.send(frame)

    def _clusterUnavailable(self, failure: Failure, session: Session, what: str) -> None:
        """
        Redis (several nodes) did not answer: the client is told, nothing
        was half done.
        """
        failure.trap(Unavailable)
        session.awaiting = None
        self.log.warn(
            "{label}: {what} not done: {why}", label=session.label, what=what, why=failure.value
        )
        session.error(Err.UNAVAILABLE, "the cluster is unavailable right now; try again later")

    def _history(self, session: Session, frame: Frame) -> None:
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

    def _ping(self, session: Session, frame: Frame) -> None:
        session.send(codec.command("PONG", frame.rest) if frame.rest else codec.command("PONG"))

    def _exit(self, session: Session, frame: Frame) -> None:
        session.close(codec.command("BYE", Reason.EXIT), Reason.EXIT)

    def _data(self, session: Session, frame: Frame) -> Deferred[None] | None:
        if session.life.phase is not Phase.ACTIVE:
            session.error(Err.STATE, "log in first")
            return None
        name = session.name
        assert name is not None  # named by welcome, on entering ACTIVE
        awaiting, session.awaiting = session.awaiting, None
        if awaiting is Awaiting.PUBLIC:
            return self._public(session, name, frame.rest)
        elif awaiting is Awaiting.DIRECT:
            return self._direct(session, name, frame)
        else:
            session.error(Err.STATE, "send C PM or C DM first")
        return None

    def _public(self, session: Session, name: str, text: str) -> Deferred[None] | None:
        if not text:
            session.error(Err.BAD_TEXT, "the message is empty")
            return None
        transport = session.channel.transportName
        said = (int(self.clock.seconds() * 1000), name, transport, text)
        count = self.roster.say(codec.data("PM", name, transport, text), session, said)
        if isinstance(count, Deferred):  # several nodes: said once Redis has it
            return count.addCallbacks(
                self._said, self._clusterUnavailable, (session, said), {}, (session, "C PM")
            )
        self._said(count, session, said)
        return None

    def _said(self, count: int, session: Session, said: Said) -> None:
        session.send(codec.command("OK", "PM", str(count)))
        if self.history.size:
            self.history.add(*said)
        self.log.public(*said[1:])

    def _direct(self, session: Session, name: str, frame: Frame) -> Deferred[None] | None:
        parts = frame.words(1)
        if len(parts) < 2 or not parts[1]:
            session.error(Err.BAD_TEXT, "send D <username> <text>")
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
