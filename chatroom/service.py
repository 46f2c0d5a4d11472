"""
The chat room itself: sessions, names, presence and the PM/DM/EX rules.

Nothing here knows about sockets. A transport (TCP lines, UDP datagrams)
wraps each client in an L{IChannel} and hands the service raw frame bytes;
the service answers through the channel. Everything the protocol document
says about what is allowed when lives in this module.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from twisted.application.service import Service
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Attribute, Interface

from chatroom import codec, names
from chatroom.accounts import Accounts, AlreadyRegistered, LookAlike
from chatroom.codec import Frame, FrameError
from chatroom.limits import FailureWindow, TokenBucket
from chatroom.passwords import MAX_PASSWORD, BadPassword, prepare
from chatroom.store import Unavailable

LOGIN_TIMEOUT = 30.0
MAX_CLIENTS = 1000  # sessions at once
MAX_WRONG_PASSWORDS = 3
MSG_RATE = 20.0  # frames a second, on average...
MSG_BURST = 40  # ...and at once
FLOOD_LIMIT = 10.0  # seconds of refused frames before a session is dropped
LOGIN_FAILURES = 20  # wrong passwords a minute from one address
# From one address: a classroom or office behind one NAT (40 people, some
# with two clients, all registering at the start of the lesson) fits, but
# one address cannot hold more than a few percent of the default 1000
# sessions, nor register accounts by the thousand.
MAX_PER_HOST = 64  # sessions at once
MAX_REGISTRATIONS = 60  # new accounts an hour

# An inbox longer than this pauses reading from the client until it drains,
# so a client pipelining behind a slow password check cannot grow memory.
INBOX_HIGH = 64

# Session states.
NEW = "NEW"  # connected, no name yet
NAMING = "NAMING"  # waiting for the account store: the name, then the password
PASSWORD = "PASSWORD"  # waiting for C PASS
ACTIVE = "ACTIVE"  # logged in
GONE = "GONE"  # ended; nothing more is sent or handled

# Why a session ended, as C LEAVE says it.
EXIT = "EXIT"
CLOSED = "CLOSED"
TIMEOUT = "TIMEOUT"
DROPPED = "DROPPED"
SHUTDOWN = "SHUTDOWN"


class IChannel(Interface):
    """
    One client's connection, as a transport presents it to the service.
    """

    transportName = Attribute('"TCP" or "UDP": shown to users beside names.')
    peer = Attribute("The client's address and port, for the server console.")
    host = Attribute("The client's address alone, for limits per address.")

    def send(frame: bytes) -> None:
        """
        Deliver one encoded frame (no terminator) to the client.
        """

    def close() -> Deferred[None]:
        """
        Deliver what was sent, then end the connection; fires once it is gone.
        """

    def pauseReading() -> None:
        """
        Stop passing the client's frames to the service for now.
        """

    def resumeReading() -> None:
        """
        Undo L{pauseReading}.
        """


class Session:
    """
    One client of the room, from its first frame until it leaves.

    The transport calls L{lineReceived}, L{lineTooLong} and L{channelClosed};
    everything else is the service's.
    """

    __slots__ = (
        "service",
        "channel",
        "state",
        "name",
        "nameKey",
        "registering",
        "pending",
        "wrongPasswords",
        "inbox",
        "busy",
        "paused",
        "inputEnded",
        "bucket",
    )

    def __init__(self, service: ChatService, channel: IChannel) -> None:
        self.service = service
        self.channel = channel
        self.state = NEW
        self.name: str | None = None
        self.nameKey: str | None = None
        self.registering = False
        self.pending: str | None = None  # "PM" or "DM" while text is awaited
        self.wrongPasswords = 0
        # Made when a frame must wait (behind a password check): most never do.
        self.inbox: deque[bytes | FrameError] | None = None
        self.busy = False
        self.paused = False
        self.inputEnded = False  # the client sends no more: end once answered
        self.bucket = service.newBucket()

    @property
    def label(self) -> str:
        """
        How the console names this session: C{alice[TCP]} or its address.
        """
        if self.name is not None and self.state == ACTIVE:
            return f"{self.name}[{self.channel.transportName}]"
        return f"{self.channel.peer}[{self.channel.transportName}]"

    def lineReceived(self, line: bytes) -> None:
        """
        One frame's bytes arrived, terminator already removed.
        """
        if line == b"C EX" or self.service.admit(self, line[:1]):
            self.enqueue(line)

    def lineTooLong(self, head: bytes) -> None:
        """
        A frame over the size limit arrived; C{head} is its start, so that
        an over-long data frame ends the pending operation like any other
        error in reply to a data frame.
        """
        if not self.service.admit(self, head):
            return
        self.enqueue(
            FrameError(
                "TOO_LONG",
                f"frames are at most {codec.MAX_CLIENT_FRAME} bytes",
                codec.kindOf(head),
            )
        )

    def endOfInput(self) -> None:
        """
        The client will send nothing more but still reads (a TCP half-close):
        answer every frame it sent, then end the session (C{CLOSED}).
        """
        self.inputEnded = True
        if not self.busy:
            self.service.drain(self)

    def channelClosed(self, reason: str) -> None:
        """
        The transport lost the client (C{CLOSED}, C{TIMEOUT} or C{DROPPED}).
        """
        self.service.endSession(self, reason)

    def send(self, frame: bytes) -> None:
        if self.state != GONE:
            self.channel.send(frame)

    def error(self, code: str, reason: str) -> None:
        if code != "RATE":  # a flood is logged once, when it starts
            self.service.log.info(
                "{label} error {code}: {reason}", label=self.label, code=code, reason=reason
            )
        self.send(codec.command("ERR", code, reason))

    def enqueue(self, item: bytes | FrameError) -> None:
        """
        Queue a frame (or an error that stands in its place, such as a
        refusal for flooding) to be handled in its turn.
        """
        if self.state == GONE:
            return
        if self.inbox is None:
            self.inbox = deque()
        self.inbox.append(item)
        if len(self.inbox) > INBOX_HIGH and not self.paused:
            self.paused = True
            self.channel.pauseReading()
        if not self.busy:
            self.service.drain(self)


class ChatService(Service):
    """
    The room: owns every session, every name and every rule.

    @ivar online: logged-in sessions by name key.
    @ivar reserved: sessions between C{LOGIN} and the end of their login, by
        the key of the name they asked for, so nobody else can take it.
    """

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        accounts: Accounts | None,
        maxClients: int = MAX_CLIENTS,
        loginTimeout: float = LOGIN_TIMEOUT,
        msgRate: float = MSG_RATE,
        msgBurst: float = MSG_BURST,
        maxPerHost: int = 0,
        loginFailures: int = LOGIN_FAILURES,
        maxRegistrations: int = 0,
    ) -> None:
        """
        @param msgRate: frames a second a session may send on average (0:
            no limit), C{msgBurst} at once.
        @param maxPerHost: sessions at once from one address (0: no limit).
        @param loginFailures: wrong passwords a minute from one address
            before its logins are refused for the rest of that minute.
        @param maxRegistrations: new accounts an hour from one address
            (0: no limit); beyond it, new names get C{ERR RATE}.
        """
        self.clock = clock
        self.accounts = accounts
        self.maxClients = maxClients
        self.loginTimeout = loginTimeout
        self.msgRate = msgRate
        self.msgBurst = msgBurst
        self.maxPerHost = maxPerHost
        self.loginFailures = FailureWindow(loginFailures)
        self.registrations = FailureWindow(maxRegistrations, window=3600.0)
        self._perHost: dict[str, int] = {}
        self.sessions: set[Session] = set()
        self.online: dict[str, Session] = {}
        self.reserved: dict[str, Session] = {}
        # Login deadlines in start order, so expiry stops at the first live one.
        self._deadlines: dict[Session, float] = {}
        self._sweeper = LoopingCall(self._expireLogins)
        self._sweeper.clock = clock
        self._commands: dict[str, Callable[[Session, Frame], Deferred | None]] = {
            "LOGIN": self._login,
            "PASS": self._password,
            "PM": self._publicStart,
            "DM": self._directStart,
            "WHO": self._who,
            "PING": self._ping,
            "EX": self._exit,
        }

    # Service lifecycle.

    def startService(self) -> None:
        super().startService()
        self._sweeper.start(min(1.0, self.loginTimeout / 4), now=False)

    def stopService(self) -> Deferred[None]:
        """
        Say C{BYE SHUTDOWN} to everyone, wait for them to go.
        """
        super().stopService()
        if self._sweeper.running:
            self._sweeper.stop()
        bye = codec.command("BYE", SHUTDOWN)
        closing = [self.closeSession(session, bye, SHUTDOWN) for session in list(self.sessions)]
        d: Deferred = DeferredList(closing)
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
            return self._refuse(channel, "the server is full, try later")
        fromHost = self._perHost.get(channel.host, 0)
        if self.maxPerHost and fromHost >= self.maxPerHost:
            return self._refuse(channel, "too many sessions from your address")
        session = Session(self, channel)
        self.sessions.add(session)
        self._perHost[channel.host] = fromHost + 1
        self._deadlines[session] = self.clock.seconds() + self.loginTimeout
        self.log.info(
            "new {transport} connection from {peer}",
            transport=channel.transportName,
            peer=channel.peer,
        )
        if not greeted:
            session.send(hello(channel.transportName))
        return session

    def _refuse(self, channel: IChannel, reason: str) -> None:
        self.log.info(
            "refused {transport} connection from {peer}: {reason}",
            transport=channel.transportName,
            peer=channel.peer,
            reason=reason,
        )
        channel.send(codec.command("ERR", "FULL", reason))
        channel.close()
        return None

    def newBucket(self) -> TokenBucket | None:
        if self.msgRate <= 0:
            return None
        return TokenBucket(self.msgRate, self.msgBurst, self.clock.seconds())

    def admit(self, session: Session, head: bytes) -> bool:
        """
        Whether a frame that just arrived may be handled, by the session's
        rate limit. A refused frame is answered with C{RATE}, in order; a
        session that keeps flooding for L{FLOOD_LIMIT} seconds is dropped.
        """
        bucket = session.bucket
        if bucket is None or session.state == GONE:
            return True
        now = self.clock.seconds()
        if bucket.allow(now):
            return True
        flooding = bucket.flooding(now)
        if flooding == 0.0:
            self.log.info("{label} is sending too fast", label=session.label)
        if flooding >= FLOOD_LIMIT:
            self.log.info("{label} dropped for flooding", label=session.label)
            self.closeSession(
                session, codec.command("ERR", "RATE", "still flooding; goodbye"), DROPPED
            )
        else:
            reason = f"too fast: at most {self.msgRate:g} frames a second"
            session.enqueue(FrameError("RATE", reason, codec.kindOf(head)))
        return False

    def endSession(self, session: Session, reason: str) -> None:
        """
        Forget a session and tell the room, once, however it ended.
        """
        if session.state == GONE:
            return
        wasActive = session.state == ACTIVE
        self._release(session)
        session.state = GONE
        session.inbox = None
        self.sessions.discard(session)
        self._deadlines.pop(session, None)
        host = session.channel.host
        if self._perHost.get(host, 0) > 1:
            self._perHost[host] -= 1
        else:
            self._perHost.pop(host, None)
        if wasActive:
            assert session.nameKey is not None
            del self.online[session.nameKey]
            self.log.info(
                "{name} [{transport}] has left the chat. ({reason})",
                name=session.name,
                transport=session.channel.transportName,
                reason=reason,
            )
            if reason != SHUTDOWN:
                self._broadcast(
                    session,
                    codec.command("LEAVE", session.name, session.channel.transportName, reason),
                )
        else:
            self.log.info("{label} disconnected ({reason})", label=session.label, reason=reason)

    def closeSession(self, session: Session, last: bytes, reason: str) -> Deferred[None]:
        """
        Send C{last}, end the session and close its channel.
        """
        session.send(last)
        self.endSession(session, reason)
        return session.channel.close()

    # Frame handling, strictly in arrival order.

    def drain(self, session: Session) -> None:
        """
        Handle queued frames until one needs to wait (a password check, a
        database look-up), then carry on when it is done.
        """
        while session.inbox and not session.busy and session.state != GONE:
            item = session.inbox.popleft()
            waiting = self._handle(session, item)
            if waiting is not None:
                session.busy = True
                waiting.addErrback(self._failed, session)
                waiting.addBoth(self._resume, session)
        if session.paused and len(session.inbox or ()) <= INBOX_HIGH // 2 and session.state != GONE:
            session.paused = False
            session.channel.resumeReading()
        elif session.inputEnded and not (session.inbox or session.busy or session.state == GONE):
            self.endSession(session, CLOSED)
            session.channel.close()

    def _resume(self, ignored: object, session: Session) -> None:
        session.busy = False
        self.drain(session)

    def _failed(self, failure: Failure, session: Session) -> None:
        self.log.failure("handling a frame from {label}", failure, label=session.label)
        session.error("STATE", "the server failed to handle that, try again")

    def _handle(self, session: Session, item: bytes | FrameError) -> Deferred | None:
        try:
            return self._dispatch(session, item)
        except Exception:
            # A bug of ours, never the client's fault: log it, answer, go on.
            self._failed(Failure(), session)
            return None

    def _dispatch(self, session: Session, item: bytes | FrameError) -> Deferred | None:
        try:
            if isinstance(item, FrameError):
                raise item
            frame = codec.decode(item)
        except FrameError as e:
            if e.kind == codec.DATA:
                session.pending = None
            session.error(e.code, e.reason)
            return None
        if frame.kind == codec.DATA:
            return self._data(session, frame)
        handler = self._commands.get(frame.verb)
        if handler is None:
            if codec.isVerb(frame.verb):
                session.error("UNKNOWN", f"unknown command {frame.verb}")
            else:
                session.error("UNKNOWN", "verbs are upper-case letters")
            return None
        return handler(session, frame)

    # Logging in.

    def _login(self, session: Session, frame: Frame) -> Deferred | None:
        if session.state == ACTIVE:
            session.error("STATE", f"already logged in as {session.name}")
            return None
        if self.loginFailures.blocked(session.channel.host, self.clock.seconds()):
            session.error("RATE", "too many wrong passwords from your address; try in a minute")
            return None
        refusal = None
        try:
            spelling = names.validate(frame.rest)
        except names.BadName as e:
            # A name the 1.1 rules refuse may still be an account made before.
            refusal = str(e)
            try:
                spelling = names.validateLegacy(frame.rest)
            except names.BadName:
                spelling = None
            if spelling is None or self.accounts is None:
                session.error("BAD_NAME", refusal)
                return None
        self._release(session)
        nameKey = names.key(spelling)
        holder = self.online.get(nameKey) or self.reserved.get(nameKey)
        if holder is not None:
            lookAlike = names.caseless(holder.name or "") != names.caseless(spelling)
            if lookAlike and refusal is not None:
                session.error("BAD_NAME", refusal)
            elif lookAlike:
                session.error("NAME_TAKEN", f"{spelling} looks like {holder.name}, already in use")
            else:
                session.error("NAME_TAKEN", f"{spelling} is already in use")
            return None
        self.reserved[nameKey] = session
        session.name = spelling
        session.nameKey = nameKey
        if self.accounts is None:
            self._welcome(session, spelling)
            return None
        session.state = NAMING

        def answered(registered: bool) -> None:
            if session.state != NAMING:
                return
            if refusal is not None and not registered:
                self._release(session)
                session.error("BAD_NAME", refusal)
                return
            if not registered and self.registrations.blocked(
                session.channel.host, self.clock.seconds()
            ):
                self._release(session)
                session.error("RATE", "too many new accounts from your address; try in an hour")
                return
            session.state = PASSWORD
            session.registering = not registered
            session.send(codec.command("PASSWORD", "EXISTING" if registered else "NEW"))

        def failed(failure: Failure) -> Failure | None:
            if session.state == NAMING:
                self._release(session)
                if failure.check(LookAlike):
                    other = failure.value.args[0]
                    session.error("NAME_TAKEN", f"{spelling} looks like {other}, registered")
                    return None
            return self._unavailable(session, failure)

        return self.accounts.isRegistered(spelling).addCallbacks(answered, failed)

    def _password(self, session: Session, frame: Frame) -> Deferred | None:
        if session.state != PASSWORD:
            session.error("STATE", "send C LOGIN first")
            return None
        assert self.accounts is not None and session.name is not None
        password = frame.rest
        name = session.name
        session.state = NAMING
        if session.registering:
            if not 1 <= len(password) <= MAX_PASSWORD:
                self._badPassword(session, f"choose 1 to {MAX_PASSWORD} characters")
                return None
            try:
                prepare(password)
            except BadPassword as e:
                self._badPassword(session, str(e))
                return None
            attempt = self.accounts.register(name, password)
        else:
            attempt = self.accounts.login(name, password)

        def refused(failure: Failure) -> None:
            if session.state == GONE:
                return
            if failure.check(AlreadyRegistered):
                self._release(session)
                session.error("NAME_TAKEN", f"{name} was registered just now")
                return
            failure.trap(UnauthorizedLogin)
            self.loginFailures.failed(session.channel.host, self.clock.seconds())
            session.wrongPasswords += 1
            if session.wrongPasswords >= MAX_WRONG_PASSWORDS:
                self.log.info("{label} closed after 3 wrong passwords", label=session.label)
                self._release(session)
                self.closeSession(
                    session,
                    codec.command("ERR", "BAD_PASSWORD", "wrong password; goodbye"),
                    CLOSED,
                )
                return
            self._badPassword(session, "wrong password")

        def failed(failure: Failure) -> Failure | None:
            if session.state == NAMING:
                self._release(session)
            return self._unavailable(session, failure)

        def entered(registered: str) -> None:
            if session.registering:  # the window counts any event; here, a new account
                self.registrations.failed(session.channel.host, self.clock.seconds())
            if session.state == NAMING:
                self._welcome(session, registered)

        return attempt.addCallbacks(entered, refused).addErrback(failed)

    def _unavailable(self, session: Session, failure: Failure) -> Failure | None:
        """
        Answer C{ERR UNAVAILABLE} if the account database could not do its
        part right now (locked by another program, unreadable); the session
        goes on, its login abandoned. Any other failure is passed on.
        """
        if not failure.check(Unavailable):
            return failure
        self.log.warn(
            "{label}: account database unavailable: {why}", label=session.label, why=failure.value
        )
        session.error("UNAVAILABLE", "the account database is busy right now; try again later")
        return None

    def _badPassword(self, session: Session, reason: str) -> None:
        self._release(session)
        session.error("BAD_PASSWORD", reason)

    def _release(self, session: Session) -> None:
        """
        Give back the name a session reserved but has not logged in with.
        """
        if session.state in (NAMING, PASSWORD) or (
            session.state == NEW and session.nameKey is not None
        ):
            if self.reserved.get(session.nameKey) is session:
                del self.reserved[session.nameKey]
            session.state = NEW
            session.name = session.nameKey = None

    def _welcome(self, session: Session, name: str) -> None:
        transport = session.channel.transportName
        nameKey = names.key(name)
        if self.reserved.get(nameKey) is session:
            del self.reserved[nameKey]
        self._deadlines.pop(session, None)
        session.state = ACTIVE
        session.name = name
        session.nameKey = nameKey
        self.online[nameKey] = session
        session.send(
            codec.command(
                "WELCOME", name, transport, f"Welcome {name}, you are connected via {transport}."
            )
        )
        self._broadcast(session, codec.command("JOIN", name, transport))
        self.log.info(
            "{name} [{transport}] has connected. Welcome!", name=name, transport=transport
        )

    def _expireLogins(self) -> None:
        now = self.clock.seconds()
        self.loginFailures.forgetOld(now)
        self.registrations.forgetOld(now)
        for session, deadline in list(self._deadlines.items()):
            if deadline > now:
                break
            self.log.info("{label} did not log in in time", label=session.label)
            self.closeSession(session, codec.command("ERR", "STATE", "login timed out"), CLOSED)

    # Talking.

    def _active(self, session: Session) -> bool:
        if session.state == ACTIVE:
            return True
        session.error("STATE", "log in first")
        return False

    def _noArguments(self, session: Session, frame: Frame) -> bool:
        if frame.rest:
            session.error("BAD_FRAME", f"{frame.verb} takes no arguments")
            return False
        return True

    def _publicStart(self, session: Session, frame: Frame) -> None:
        if self._active(session) and self._noArguments(session, frame):
            session.pending = "PM"
            session.send(codec.command("ACK", "PM"))

    def _directStart(self, session: Session, frame: Frame) -> None:
        if self._active(session) and self._noArguments(session, frame):
            session.pending = "DM"
            self._sendUserList(session)

    def _who(self, session: Session, frame: Frame) -> None:
        if self._active(session) and self._noArguments(session, frame):
            session.pending = None
            self._sendUserList(session)

    def _sendUserList(self, session: Session) -> None:
        """
        Send who is online, sorted case-insensitively, in as many
        C{C USERS} frames as it takes (1.1): a frame of 70 long non-ASCII
        names would be over the clients' limit, and one of 560 over what a
        datagram can carry.
        """
        for frame in codec.listFrames("USERS", self._userList()):
            session.send(frame)

    def _userList(self) -> list[str]:
        entries = sorted(
            (names.caseless(s.name), f"{s.name}:{s.channel.transportName}")
            for s in self.online.values()
        )
        return [entry for _, entry in entries]

    def _ping(self, session: Session, frame: Frame) -> None:
        if " " in frame.rest:
            session.error("BAD_FRAME", "PING takes at most one word")
            return
        session.send(codec.command("PONG", frame.rest) if frame.rest else codec.command("PONG"))

    def _exit(self, session: Session, frame: Frame) -> None:
        if self._noArguments(session, frame):
            self.closeSession(session, codec.command("BYE", EXIT), EXIT)

    def _data(self, session: Session, frame: Frame) -> None:
        if not self._active(session):
            return
        pending, session.pending = session.pending, None
        if pending == "PM":
            self._public(session, frame.rest)
        elif pending == "DM":
            self._direct(session, frame)
        else:
            session.error("STATE", "send C PM or C DM first")

    def _public(self, session: Session, text: str) -> None:
        if not text:
            session.error("BAD_TEXT", "the message is empty")
            return
        transport = session.channel.transportName
        count = self._broadcast(session, codec.data("PM", session.name, transport, text))
        session.send(codec.command("OK", "PM", str(count)))
        self.log.info(
            "{name}[{transport}] : {text}", name=session.name, transport=transport, text=text
        )

    def _direct(self, session: Session, frame: Frame) -> None:
        parts = frame.words(1)
        if len(parts) < 2 or not parts[1]:
            session.error("BAD_TEXT", "send D <username> <text>")
            return
        target = self.online.get(names.key(parts[0]))
        if target is None:
            session.error("NO_SUCH_USER", f"{parts[0]} is not online")
            return
        transport = session.channel.transportName
        target.send(codec.data("DM", session.name, transport, parts[1]))
        session.send(codec.command("OK", "DM", target.name))
        self.log.info(
            "{name}[{transport}] sent a direct message to {target}",
            name=session.name,
            transport=transport,
            target=target.label,
        )

    def _broadcast(self, sender: Session, frame: bytes) -> int:
        """
        Send C{frame}, encoded once, to every logged-in session but the
        sender; returns how many got it.
        """
        count = 0
        for session in self.online.values():
            if session is not sender:
                session.channel.send(frame)
                count += 1
        return count


def hello(transportName: str) -> bytes:
    """
    The greeting that opens every session.
    """
    return codec.command("HELLO", "chatroom", "1", transportName)
