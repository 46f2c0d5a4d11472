"""
Logging in: C{C LOGIN} and C{C PASS}, through the account store (cred), with
the name held in the roster while the login is under way.

It owns the login's moves through the session's lifecycle and the limits on
guessing passwords and making accounts; the room owns what comes after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from chatroom import codec, names
from chatroom.accounts import AlreadyRegistered, LookAlike
from chatroom.codec import Err, Frame, Reason
from chatroom.lifecycle import LOGGING_IN, Phase, Ticket
from chatroom.limits import FailureWindow
from chatroom.passwords import MAX_PASSWORD, BadPassword, prepare
from chatroom.pipeline import Session
from chatroom.store import Unavailable

if TYPE_CHECKING:
    from chatroom.room import Room

#: Wrong passwords for an existing account that end a session.
MAX_WRONG_PASSWORDS = 3

#: The word after the name in C{C LOGIN <name> GHOST} (1.1).
GHOST = "GHOST"


def parseLogin(rest: str) -> tuple[str, bool]:
    """
    The name of a C{C LOGIN} and whether it asks to replace (C{GHOST}) the
    user's own older session. Anything else after the name stays part of
    it, and so is refused as a name (C{C LOGIN a b} is C{BAD_NAME}).
    """
    name, space, word = rest.rpartition(" ")
    if space and word == GHOST and name and " " not in name:
        return name, True
    return rest, False


class AccountBook(Protocol):
    """
    What the room asks of an account database: L{chatroom.accounts.Accounts},
    or a test's stand-in that answers when the test says so.
    """

    def isRegistered(self, name: str) -> Deferred[bool]: ...

    def login(self, name: str, password: str) -> Deferred[str]: ...

    def register(self, name: str, password: str) -> Deferred[str]: ...


class Login:
    """
    The login rules of one room.

    @ivar failures: wrong passwords per address, over a minute.
    @ivar registrations: new accounts per address, over an hour.
    """

    def __init__(
        self,
        room: Room,
        loginFailures: int,
        maxRegistrations: int,
        maxWrongPasswords: int = MAX_WRONG_PASSWORDS,
    ) -> None:
        self.room = room
        self.failures = FailureWindow(loginFailures)
        self.registrations = FailureWindow(maxRegistrations, window=3600.0)
        self.maxWrongPasswords = maxWrongPasswords

    @property
    def accounts(self) -> AccountBook | None:
        return self.room.accounts

    def _now(self) -> float:
        return self.room.clock.seconds()

    def login(self, session: Session, frame: Frame) -> Deferred | None:
        """
        C{C LOGIN <name> [GHOST]}: reserve the name, then ask the store
        about it.

        With C{GHOST}, a name present in the room under the same account
        is reserved beside its holder, which the right password replaces
        (L{password}); a look-alike, a name being logged in, or any name
        in a room without accounts (no password could prove it is yours)
        is taken as without C{GHOST}.
        """
        if self.failures.blocked(session.channel.host, self._now()):
            self.room.counters.login("rate_limited")
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
        roster = self.room.roster
        nameKey = names.key(spelling)
        holder = roster.holder(spelling, session)
        replacing = None
        if holder is not None and ghost and self.accounts is not None:
            replacing = self._replaceable(holder, spelling, nameKey)
        if holder is not None and replacing is None:
            lookAlike = names.caseless(holder.name or "") != names.caseless(spelling)
            if lookAlike and refusal is not None:
                session.error(Err.BAD_NAME, refusal)
            elif lookAlike:
                session.error(
                    Err.NAME_TAKEN, f"{spelling} looks like {holder.name}, already in use"
                )
            else:
                session.error(Err.NAME_TAKEN, f"{spelling} is already in use")
            return None
        session.name = spelling
        session.nameKey = nameKey
        session.replacing = replacing
        # A GHOST for a name present on another node: the cluster knows.
        reserving = roster.reserve(session, ghost and self.accounts is not None)
        if reserving is not None:
            return self._reserving(session, reserving, refusal)
        if self.accounts is None:
            self.room.welcome(session, spelling)
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
        spelling = session.name
        ticket = session.life.wait(Phase.LOOKING_UP)

        def reserved(holder: str | None) -> Deferred | None:
            if holder is None:
                return self._lookUp(session, ticket, refusal)
            self.giveUp(session)
            if names.caseless(holder) != names.caseless(spelling or ""):
                session.error(Err.NAME_TAKEN, f"{spelling} looks like {holder}, already in use")
            else:
                session.error(Err.NAME_TAKEN, f"{spelling} is already in use")
            return None

        def failed(failure: Failure) -> Failure | None:
            self.giveUp(session)
            failure.trap(Unavailable)
            self.room.log.warn(
                "{label}: name not reserved: {why}", label=session.label, why=failure.value
            )
            session.error(Err.UNAVAILABLE, "the cluster is unavailable right now; try again later")
            return None

        answer = session.life.answer
        return reserving.addCallbacks(answer(ticket, reserved), answer(ticket, failed))

    def _lookUp(self, session: Session, ticket: Ticket, refusal: str | None) -> Deferred:
        """
        Ask the account store about the name just reserved.
        """
        assert self.accounts is not None and session.name is not None
        spelling = session.name
        replacing = session.replacing

        def answered(registered: bool) -> None:
            if replacing is not None and not registered:  # cannot be: present means registered
                self.giveUp(session)
                session.error(Err.NAME_TAKEN, f"{spelling} is already in use")
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
            session.registering = not registered
            session.send(codec.command("PASSWORD", "EXISTING" if registered else "NEW"))

        def failed(failure: Failure) -> Failure | None:
            self.giveUp(session)
            if failure.check(LookAlike):
                other = failure.value.args[0]
                session.error(Err.NAME_TAKEN, f"{spelling} looks like {other}, registered")
                return None
            return self._unavailable(session, failure)

        answer = session.life.answer
        return self.accounts.isRegistered(spelling).addCallbacks(
            answer(ticket, answered), answer(ticket, failed)
        )

    def password(self, session: Session, frame: Frame) -> Deferred | None:
        """
        C{C PASS <password>}: check it, or make the new account.
        """
        assert self.accounts is not None and session.name is not None
        password = frame.rest
        name = session.name
        registering = session.registering
        if registering:
            problem = None
            if not 1 <= len(password) <= MAX_PASSWORD:
                problem = f"choose 1 to {MAX_PASSWORD} characters"
            else:
                try:
                    prepare(password)
                except BadPassword as e:
                    problem = str(e)
            if problem is not None:
                self.giveUp(session)
                session.error(Err.BAD_PASSWORD, problem)
                return None
        ticket = session.life.wait(Phase.CHECKING_PASSWORD)
        if registering:
            attempt = self.accounts.register(name, password)
            # The account exists whatever became of the session.
            attempt.addCallback(self._registered, session.channel.host)
        else:
            attempt = self.accounts.login(name, password)

        def refused(failure: Failure) -> Failure | None:
            self.giveUp(session)
            if failure.check(AlreadyRegistered):
                session.error(Err.NAME_TAKEN, f"{name} was registered just now")
                return None
            if not failure.check(UnauthorizedLogin):
                return self._unavailable(session, failure)
            self.room.counters.login("bad_password")
            self.failures.failed(session.channel.host, self._now())
            session.wrongPasswords += 1
            if session.wrongPasswords >= self.maxWrongPasswords:
                self.room.log.info(
                    "{label} closed after {count} wrong passwords",
                    label=session.label,
                    count=session.wrongPasswords,
                )
                wrong = codec.command("ERR", Err.BAD_PASSWORD, "wrong password; goodbye")
                session.close(wrong, Reason.CLOSED)
                return None
            session.error(Err.BAD_PASSWORD, "wrong password")
            return None

        def entered(spelling: str) -> Deferred | None:
            # Accounts from before 1.1 may look alike only as registered.
            holder = self.room.roster.holder(spelling, session)
            replacing, session.replacing = session.replacing, None
            if holder is not None and holder is replacing:
                return self.room.replace(session, holder, spelling)
            if holder is not None:
                self.giveUp(session)
                session.error(
                    Err.NAME_TAKEN, f"{spelling} looks like {holder.name}, already in use"
                )
                return None
            claiming = self.room.roster.claim(session, spelling)
            if claiming is not None:  # a GHOST of a session on another node
                return claiming.addCallbacks(
                    answer(ticket, claimed, spelling), answer(ticket, unclaimed)
                )
            # The session's next frames wait until its stored messages are handed over.
            return self.room.welcome(session, spelling)

        def claimed(other: str | None, spelling: str) -> Deferred | None:
            if other is None:
                return self.room.welcome(session, spelling)
            self.giveUp(session)
            session.error(Err.NAME_TAKEN, f"{spelling} is already in use")
            return None

        def unclaimed(failure: Failure) -> Failure | None:
            self.giveUp(session)
            failure.trap(Unavailable)
            self.room.log.warn(
                "{label}: GHOST not done: {why}", label=session.label, why=failure.value
            )
            session.error(Err.UNAVAILABLE, "the cluster is unavailable right now; try again later")
            return None

        answer = session.life.answer
        return attempt.addCallbacks(answer(ticket, entered), answer(ticket, refused))

    def _replaceable(self, holder: Session, spelling: str, nameKey: str) -> Session | None:
        """
        The session a C{GHOST} login for C{spelling} may replace: C{holder}
        if it is present under that very account (not a look-alike of it)
        and nobody else holds the name, or L{None}.
        """
        roster = self.room.roster
        if roster.find(nameKey) is not holder or holder.name is None:
            return None  # not present: being logged in by someone
        if names.caseless(holder.name) != names.caseless(spelling):
            return None  # a look-alike, another account
        # Asking for the name as the holder would shows anyone else on it.
        if roster.holder(spelling, holder) is not None:
            return None
        return holder

    def _registered(self, name: str, host: str) -> str:
        # The window counts any event; here, a new account.
        self.registrations.failed(host, self._now())
        return name

    def _unavailable(self, session: Session, failure: Failure) -> Failure | None:
        """
        Answer C{ERR UNAVAILABLE} if the account database could not do its
        part right now (locked by another program, unreadable); the session
        goes on, its login abandoned. Any other failure is passed on.
        """
        if not failure.check(Unavailable):
            return failure
        self.room.counters.login("unavailable")
        self.room.log.warn(  # a twisted.logger.Logger: warn is its name
            "{label}: account database unavailable: {why}", label=session.label, why=failure.value
        )
        session.error(Err.UNAVAILABLE, "the account database is busy right now; try again later")
        return None

    def giveUp(self, session: Session) -> None:
        """
        Abandon a login under way: give back the name, back to C{NEW}.
        """
        if session.phase in LOGGING_IN:
            self.room.roster.release(session)
            session.life.move(Phase.NEW)
            session.name = session.nameKey = None
            session.replacing = None

    def forgetOld(self) -> None:
        now = self._now()
        self.failures.forgetOld(now)
        self.registrations.forgetOld(now)
