"""
A user changes their own password (protocol 1.2): C{C PASSWD} (logged in) is answered by
C{C PASSWORD EXISTING}; C{C PASS <old>} by C{C PASSWORD NEW} if right; C{C PASS <new>} by
C{C OK PASSWD} once the new hash is stored.

A wrong old password counts as any wrong password does: toward the address's limit of wrong
passwords a minute (shared with logging in), and, the third on one session, the session is
closed. Each change is a small state machine per session (L{Step}); anything but C{C PASS}
while it waits leaves it waiting, a new C{C PASSWD} starts it again.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import codec
from chatroom.attempt import newPasswordProblem
from chatroom.codec import Err, Frame, Reason
from chatroom.counters import Counters
from chatroom.limits import EventWindow
from chatroom.pipeline import Session
from chatroom.store import Unavailable


class Step(Enum):
    """
    Where one session's password change is.
    """

    OLD = "OLD"  # C PASSWORD EXISTING sent: the old password is awaited
    CHECKING = "CHECKING"  # the old password is checked
    NEW = "NEW"  # C PASSWORD NEW sent: the new password is awaited
    SAVING = "SAVING"  # the new password is hashed and stored


class PasswordBook(Protocol):
    """
    What changing a password asks of the accounts (L{chatroom.accounts.Accounts}).
    """

    def login(self, name: str, password: str) -> Deferred[str]: ...

    def setPassword(self, name: str, password: str) -> Deferred[None]: ...


class PasswordChange:
    """
    C{C PASSWD} and the C{C PASS} frames that follow it, for every session of a room.

    @ivar failures: wrong passwords per address over a minute (the login's own window).
    """

    def __init__(
        self,
        log: Logger,
        accounts: PasswordBook | None,
        failures: EventWindow,
        clock: IReactorTime,
        counters: Counters,
        maxWrongPasswords: int,
    ) -> None:
        self.log = log
        self.accounts = accounts
        self.failures = failures
        self.clock = clock
        self.counters = counters
        self.maxWrongPasswords = maxWrongPasswords
        self._steps: dict[Session, Step] = {}
        self._wrong: dict[Session, int] = {}

    def forget(self, session: Session) -> None:
        self._steps.pop(session, None)
        self._wrong.pop(session, None)

    def _seconds(self) -> float:
        return self.clock.seconds()

    def start(self, session: Session, frame: Frame) -> None:
        """
        C{C PASSWD}: ask for the old password.
        """
        if self.accounts is None:
            session.error(Err.DENIED, "this server has no accounts, so no passwords")
            return
        if self.failures.blocked(session.channel.host, self._seconds()):
            session.error(Err.RATE, "too many wrong passwords from your address; try in a minute")
            return
        self._steps[session] = Step.OLD
        session.send(codec.command("PASSWORD", "EXISTING"))

    def password(self, session: Session, frame: Frame) -> Deferred[None] | None:
        """
        C{C PASS} from a session logged in: the old password, then the new one.
        """
        step = self._steps.get(session)
        accounts = self.accounts
        if accounts is None or step not in (Step.OLD, Step.NEW):
            session.error(Err.STATE, "send C PASSWD first")
            return None
        name = session.name
        assert name is not None  # logged in
        if step is Step.OLD:
            self._steps[session] = Step.CHECKING
            checking = accounts.login(name, frame.rest)
            return checking.addCallbacks(
                self._oldRight, self._oldWrong, callbackArgs=(session,), errbackArgs=(session,)
            )
        problem = newPasswordProblem(frame.rest)
        if problem is not None:
            self._steps.pop(session, None)
            session.error(Err.BAD_PASSWORD, problem)
            return None
        self._steps[session] = Step.SAVING
        saving = accounts.setPassword(name, frame.rest)
        return saving.addCallbacks(
            self._saved, self._notSaved, callbackArgs=(session,), errbackArgs=(session,)
        )

    def _oldRight(self, spelling: str, session: Session) -> None:
        if self._steps.get(session) is not Step.CHECKING:
            return  # ended meanwhile
        self._steps[session] = Step.NEW
        session.send(codec.command("PASSWORD", "NEW"))

    def _oldWrong(self, failure: Failure, session: Session) -> Failure | None:
        if self._steps.pop(session, None) is not Step.CHECKING:
            return None
        if failure.check(Unavailable):
            self._unavailable(failure, session)
            return None
        failure.trap(UnauthorizedLogin)
        self.counters.login("bad_password")
        self.failures.record(session.channel.host, self._seconds())
        wrong = self._wrong[session] = self._wrong.get(session, 0) + 1
        if wrong >= self.maxWrongPasswords:
            self.log.info(
                "{label} closed after {count} wrong passwords", label=session.label, count=wrong
            )
            goodbye = codec.command("ERR", Err.BAD_PASSWORD, "wrong password; goodbye")
            session.close(goodbye, Reason.CLOSED)
            return None
        session.error(Err.BAD_PASSWORD, "wrong password")
        return None

    def _saved(self, _: None, session: Session) -> None:
        self._steps.pop(session, None)
        self.log.info("{label} changed their password", label=session.label)
        session.send(codec.command("OK", "PASSWD"))

    def _notSaved(self, failure: Failure, session: Session) -> None:
        self._steps.pop(session, None)
        self._unavailable(failure, session)

    def _unavailable(self, failure: Failure, session: Session) -> None:
        failure.trap(Unavailable)
        self.log.warn(
            "{label}: password not changed: {why}", label=session.label, why=failure.value
        )
        session.error(Err.UNAVAILABLE, "the account database is busy right now; try again later")
