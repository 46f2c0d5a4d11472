"""
Logging in: C{C LOGIN} and C{C PASS}, through the account store (cred), with
the name held in the roster while the login is under way.

It owns the login's moves through the session's lifecycle, each session's
L{LoginAttempt}, and the limits on guessing passwords and making accounts;
what comes after is the room's, reached through L{Entrance} alone.
"""

from __future__ import annotations

from typing import Protocol

from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import codec, names, plaintext
from chatroom.accounts import AlreadyRegistered, LookAlike
from chatroom.attempt import LoginAttempt, lookAlike, nameTaken, newPasswordProblem, parseLogin
from chatroom.codec import Err, Frame, Reason
from chatroom.counters import Counters
from chatroom.lifecycle import LOGGING_IN, Phase, Ticket
from chatroom.limits import EventWindow
from chatroom.pipeline import Session
from chatroom.refusals import clusterUnavailable
from chatroom.roster import IRoster
from chatroom.settings import RoomLimits
from chatroom.store import Unavailable


class Entrance(Protocol):
    """
    What logging in asks of the room once a login succeeded.
    """

    def welcome(self, session: Session, name: str) -> Deferred[None] | None:
        """
        C{session} logged in as C{name}: let it in.
        """

    def replace(self, session: Session, old: Session, name: str) -> Deferred[None] | None:
        """
        C{session} logged in as C{name} with C{GHOST}: end C{old}, its
        user's older session here, and let it in.
        """


class AccountBook(Protocol):
    """
    What the room asks of an account database: L{chatroom.accounts.Accounts},
    or a test's stand-in that answers when the test says so.
    """

    def isRegistered(self, name: str) -> Deferred[bool]: ...

    def login(self, name: str, password: str) -> Deferred[str]: ...

    def register(self, name: str, password: str) -> Deferred[str]: ...

    def setPassword(self, name: str, password: str) -> Deferred[None]: ...


class Login:
    """
    The login rules of one room.

    @ivar attempts: the sessions logging in (or that tried), by session.
    @ivar failures: wrong passwords per address, over a minute.
    @ivar registrations: new accounts per address, over an hour.
    """

    def __init__(
        self,
        clock: IReactorTime,
        log: Logger,
        accounts: AccountBook | None,
        roster: IRoster,
        entrance: Entrance,
        limits: RoomLimits,
        counters: Counters,
    ) -> None:
        self.clock = clock
        self.log = log
        self.accounts = accounts
        self.roster = roster
        self.entrance = entrance
        self.counters = counters
        self.attempts: dict[Session, LoginAttempt] = {}
        self.failures = EventWindow(limits.loginFailures)
        self.registrations = EventWindow(limits.maxRegistrations, window=3600.0)
        self.maxWrongPasswords = limits.maxWrongPasswords
        self.plaintextLogins = limits.plaintextLogins

    def _now(self) -> float:
        return self.clock.seconds()

    def _attempt(self, session: Session) -> LoginAttempt:
        attempt = self.attempts.get(session)
        if attempt is None:
            attempt = self.attempts[session] = LoginAttempt()
        return attempt

    def _shown(self, holder: Session) -> str:
        """
        The name C{holder} holds: the one it is logging in with, or its own.
        """
        attempt = self.attempts.get(holder)
        if attempt is not None and attempt.name is not None:
            return attempt.name
        return holder.name or ""

    # C LOGIN: the name, reserved, then looked up.

    def login(self, session: Session, frame: Frame) -> Deferred | None:
        """
        C{C LOGIN <name> [GHOST]}: reserve the name, then ask the store
        about it.

        With C{GHOST}, a name present in the room under the same account
        is reserved beside its holder, which the right password replaces
        (L{password}); a look-alike, a name being logged in, or any name
        in a room without accounts (no password could prove it is yours)
        is taken as without C{GHOST}.

        Where C{--plaintext-logins} does not take a password in clear, an
        unencrypted session gets C{ERR INSECURE} before anything is held (a
        room without accounts has no passwords, and ignores it).
        """
        channel = session.channel
        if self.accounts is not None and not plaintext.allows(
            self.plaintextLogins, channel.encrypted, channel.loopback
        ):
            self.counters.login("insecure")
            session.error(Err.INSECURE, plaintext.REFUSAL)
            return None
        if self.failures.blocked(session.channel.host, self._now()):
            self.counters.login("rate_limited")
            session.error(Err.RATE, "too many wrong passwords from your address; try in a minute")
            return None
        refusal = None
        typed, ghost = parseLogin(frame.rest)
        try:
            spelling = names.validate(typed)
        except names.BadName as e:
            # A name the 1.1 rules refuse may still be an account made before.
            refusal = str(e)
            if self.accounts is None:  # no accounts, none made before either
                session.error(Err.BAD_NAME, refusal)
                return None
            try:
                spelling = names.validateLegacy(typed)
            except names.BadName:
                session.error(Err.BAD_NAME, refusal)
                return None
        self.giveUp(session)
        lookalikeKey = names.key(spelling)
        holder = self.roster.holder(spelling, session)
        replacing = None
        if holder is not None and ghost and self.accounts is not None:
            replacing = self._replaceable(holder, spelling, lookalikeKey)
        if holder is not None and replacing is None:
            lookalike = lookAlike(self._shown(holder), spelling)
            if lookalike is not None and refusal is not None:
                session.error(Err.BAD_NAME, refusal)
            else:
                session.error(Err.NAME_TAKEN, nameTaken(spelling, lookalike))
            return None
        attempt = self._attempt(session)
        attempt.name, attempt.lookalikeKey, attempt.replacing = spelling, lookalikeKey, replacing
        # A GHOST for a name present on another node: the cluster knows.
        ghostly = ghost and self.accounts is not None
        reserving = self.roster.reserve(session, spelling, lookalikeKey, ghostly)
        if reserving is not None:
            return self._reserving(session, reserving, refusal)
        if self.accounts is None:
            self.entrance.welcome(session, spelling)
            return None
        return self._lookUp(session, session.life.wait(Phase.LOOKING_UP), refusal)

    def _reserving(
        self, session: Session, reserving: Deferred[str | None], refusal: str | None
    ) -> Deferred:
        """
        The name is being reserved on every node (L{chatroom.cluster}): look
        the account up once it is ours; a name held elsewhere is taken.
        """
        assert self.accounts is not None  # a cluster shares its accounts
        ticket = session.life.wait(Phase.LOOKING_UP)
        answer = session.life.answer
        return reserving.addCallbacks(
            answer(ticket, self._reserved, session, ticket, refusal),
            answer(ticket, self._notReserved, session),
        )

    def _reserved(
        self, holder: str | None, session: Session, ticket: Ticket, refusal: str | None
    ) -> Deferred | None:
        if holder is None:
            return self._lookUp(session, ticket, refusal)
        spelling = self._attempt(session).name or ""
        self.giveUp(session)
        session.error(Err.NAME_TAKEN, nameTaken(spelling, lookAlike(holder, spelling)))
        return None

    def _notReserved(self, failure: Failure, session: Session) -> None:
        self.giveUp(session)
        clusterUnavailable(failure, session, self.log, "name not reserved")

    def _lookUp(self, session: Session, ticket: Ticket, refusal: str | None) -> Deferred:
        """
        Ask the account store about the name just reserved.
        """
        name = self._attempt(session).name
        assert self.accounts is not None and name is not None
        answer = session.life.answer
        return self.accounts.isRegistered(name).addCallbacks(
            answer(ticket, self._lookedUp, session, refusal),
            answer(ticket, self._notLookedUp, session),
        )

    def _lookedUp(self, registered: bool, session: Session, refusal: str | None) -> None:
        attempt = self._attempt(session)
        spelling = attempt.name or ""
        if attempt.replacing is not None and not registered:  # cannot be: present means registered
            self.giveUp(session)
            session.error(Err.NAME_TAKEN, nameTaken(spelling))
            return
        if refusal is not None and not registered:
            self.giveUp(session)
            session.error(Err.BAD_NAME, refusal)
            return
        if not registered and self.registrations.blocked(session.channel.host, self._now()):
            self.giveUp(session)
            session.error(Err.RATE, "too many new accounts from your address; try in an hour")
            return
        session.life.move(Phase.AWAITING_PASSWORD)
        attempt.registering = not registered
        session.send(codec.command("PASSWORD", "EXISTING" if registered else "NEW"))

    def _notLookedUp(self, failure: Failure, session: Session) -> Failure | None:
        spelling = self._attempt(session).name
        self.giveUp(session)
        if failure.check(LookAlike):
            other = failure.value.args[0]
            session.error(Err.NAME_TAKEN, f"{spelling} looks like {other}, registered")
            return None
        return self._unavailable(session, failure)

    # C PASS: the password checked (or the account made), then the way in.

    def password(self, session: Session, frame: Frame) -> Deferred | None:
        """
        C{C PASS <password>}: check it, or make the new account; then let
        the session in (L{_passwordRight}) or say why not
        (L{_passwordRefused}).
        """
        attempt = self._attempt(session)
        name = attempt.name
        assert self.accounts is not None and name is not None
        if attempt.registering:
            problem = newPasswordProblem(frame.rest)
            if problem is not None:
                self.giveUp(session)
                session.error(Err.BAD_PASSWORD, problem)
                return None
        ticket = session.life.wait(Phase.CHECKING_PASSWORD)
        if attempt.registering:
            checking = self.accounts.register(name, frame.rest)
            # The account exists whatever became of the session.
            checking.addCallback(self._registered, session.channel.host)
        else:
            checking = self.accounts.login(name, frame.rest)
        answer = session.life.answer
        return checking.addCallbacks(
            answer(ticket, self._passwordRight, session, ticket),
            answer(ticket, self._passwordRefused, session, name),
        )

    def _registered(self, name: str, host: str) -> str:
        self.registrations.record(host, self._now())
        return name

    def _passwordRefused(self, failure: Failure, session: Session, name: str) -> Failure | None:
        self.giveUp(session)
        if failure.check(AlreadyRegistered):
            session.error(Err.NAME_TAKEN, f"{name} was registered just now")
            return None
        if not failure.check(UnauthorizedLogin):
            return self._unavailable(session, failure)
        self.counters.login("bad_password")
        self.failures.record(session.channel.host, self._now())
        attempt = self._attempt(session)
        attempt.wrongPasswords += 1
        if attempt.wrongPasswords >= self.maxWrongPasswords:
            self.log.info(
                "{label} closed after {count} wrong passwords",
                label=session.label,
                count=attempt.wrongPasswords,
            )
            wrong = codec.command("ERR", Err.BAD_PASSWORD, "wrong password; goodbye")
            session.close(wrong, Reason.CLOSED)
            return None
        session.error(Err.BAD_PASSWORD, "wrong password")
        return None

    def _passwordRight(self, spelling: str, session: Session, ticket: Ticket) -> Deferred | None:
        """
        The password was right for C{spelling}, the name as registered: let
        the session in, unless someone else holds that name meanwhile.
        """
        # Accounts from before 1.1 may look alike only as registered.
        holder = self.roster.holder(spelling, session)
        attempt = self._attempt(session)
        replacing, attempt.replacing = attempt.replacing, None
        if holder is not None and holder is replacing:
            return self.entrance.replace(session, holder, spelling)
        if holder is not None:
            self.giveUp(session)
            session.error(Err.NAME_TAKEN, nameTaken(spelling, self._shown(holder)))
            return None
        claiming = self.roster.claim(session, spelling)
        if claiming is not None:  # a GHOST of a session on another node
            answer = session.life.answer
            return claiming.addCallbacks(
                answer(ticket, self._claimed, session, spelling),
                answer(ticket, self._notClaimed, session),
            )
        # The session's next frames wait until its stored messages are handed over.
        return self.entrance.welcome(session, spelling)

    def _claimed(self, other: str | None, session: Session, spelling: str) -> Deferred | None:
        if other is None:
            return self.entrance.welcome(session, spelling)
        self.giveUp(session)
        session.error(Err.NAME_TAKEN, nameTaken(spelling))
        return None

    def _notClaimed(self, failure: Failure, session: Session) -> None:
        self.giveUp(session)
        clusterUnavailable(failure, session, self.log, "GHOST not done")

    # The rest.

    def _replaceable(self, holder: Session, spelling: str, lookalikeKey: str) -> Session | None:
        """
        The session a C{GHOST} login for C{spelling} may replace: C{holder}
        if it is present under that very account (not a look-alike of it)
        and nobody else holds the name, or L{None}.
        """
        if self.roster.find(lookalikeKey) is not holder or holder.name is None:
            return None  # not present: being logged in by someone
        if names.caseless(holder.name) != names.caseless(spelling):
            return None  # a look-alike, another account
        # Asking for the name as the holder would shows anyone else on it.
        if self.roster.holder(spelling, holder) is not None:
            return None
        return holder

    def _unavailable(self, session: Session, failure: Failure) -> Failure | None:
        """
        Answer C{ERR UNAVAILABLE} if the account database could not do its
        part right now (locked by another program, unreadable); the session
        goes on, its login abandoned. Any other failure is passed on.
        """
        if not failure.check(Unavailable):
            return failure
        self.counters.login("unavailable")
        self.log.warn(  # a twisted.logger.Logger: warn is its name
            "{label}: account database unavailable: {why}", label=session.label, why=failure.value
        )
        session.error(Err.UNAVAILABLE, "the account database is busy right now; try again later")
        return None

    def giveUp(self, session: Session) -> None:
        """
        Abandon a login under way: give back the name, back to C{NEW}.
        """
        if session.phase in LOGGING_IN:
            self.roster.release(session)
            session.life.move(Phase.NEW)
            self._attempt(session).abandon()

    def forget(self, session: Session) -> None:
        """
        C{session} was welcomed, or ended: its attempt is over.
        """
        self.attempts.pop(session, None)

    def forgetOld(self) -> None:
        now = self._now()
        self.failures.forgetOld(now)
        self.registrations.forgetOld(now)
