"""
The moderation verbs of protocol section 11 (C{KICK}, C{BAN}, C{UNBAN}, C{MUTE}, C{UNMUTE},
C{SLOW}, C{ROLE}, C{BANS}), the ban check at C{C LOGIN}, and what the room does when another
node or C{chatroom-admin} banned or deleted an account (L{Moderation.reloaded}).

Who may act on whom is decided here, from the roles this node knows (L{Rulebook}); the
decision is written to the database first (so it holds on every node and after a restart),
then told to everyone (C{C MOD}), then carried out (the target's sessions end, on whichever
node they are: L{chatroom.roster.IRoster.expel}), then audited (the database and the console).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import codec, durations, names
from chatroom.attempt import parseLogin
from chatroom.codec import Err, Frame, Reason
from chatroom.counters import Counters
from chatroom.pipeline import Session
from chatroom.roster import IRoster
from chatroom.rulebook import Reloaded, Rulebook, accountKey
from chatroom.store import BAN, MUTE, Account, AuditRecord, Sanction, Store, Unavailable

#: The roles an admin may give over the wire (never C{admin}).
GIVEN_ROLES = ("user", "moderator")

#: The longest slow mode, in seconds (a day).
SLOWEST = 86400

Handler = Callable[[Session, Frame], "Deferred[Any] | None"]


class Moderation:
    """
    The moderation verbs of one room, and their effects.

    @ivar rulebook: what this node knows of roles, bans, mutes and slow mode.
    @ivar node: this server's name, in the audit.
    """

    def __init__(
        self,
        clock: IReactorTime,
        log: Logger,
        store: Store | None,
        roster: IRoster,
        rulebook: Rulebook,
        counters: Counters,
        node: str,
    ) -> None:
        self.clock = clock
        self.log = log
        self.store = store
        self.roster = roster
        self.rulebook = rulebook
        self.counters = counters
        self.node = node
        rulebook.changed = self.reloaded

    def verbs(self) -> dict[str, tuple[str, Handler]]:
        """
        The verbs, each with what it takes (C{none}, C{word}, C{text}) and its handler.
        """
        return {
            "KICK": ("text", self.kick),
            "BAN": ("text", self.ban),
            "UNBAN": ("word", self.unban),
            "MUTE": ("text", self.mute),
            "UNMUTE": ("word", self.unmute),
            "SLOW": ("word", self.slow),
            "ROLE": ("text", self.role),
            "BANS": ("none", self.bans),
        }

    # The ban check at login.

    def login(self, session: Session, frame: Frame, then: Handler) -> Deferred[Any] | None:
        """
        C{C LOGIN}: a banned account gets C{C ERR BANNED <until> [reason]}, no password is
        asked and no name held; any other login goes on (C{then}).
        """
        if self.store is None:
            return then(session, frame)
        waiting = self.rulebook.settled()
        if waiting is not None:  # a reading under way: what it reads holds for this login
            return waiting.addCallback(lambda _: self.login(session, frame, then))
        if not self.rulebook.read:
            session.error(Err.UNAVAILABLE, "the account database is busy right now; try later")
            return None
        typed, _ = parseLogin(frame.rest)
        if self.refused(session, typed):
            return None
        return then(session, frame)

    def refused(self, session: Session, name: str) -> bool:
        """
        Whether C{name}'s account is banned: then C{session} was told (C{C ERR BANNED}).
        Asked at C{C LOGIN}, and again as the login ends (a ban may come meanwhile).
        """
        ban = self.rulebook.bannedAt(names.caseless(name))
        if ban is None:
            return False
        self.log.info("{label}: login as banned {name} refused", label=session.label, name=name)
        self.counters.login("banned")
        session.error(Err.BANNED, _withReason(durations.shown(ban.until), ban.reason))
        return True

    # The verbs.

    def kick(self, session: Session, frame: Frame) -> Deferred[Any] | None:
        if not self._mayModerate(session, "KICK"):
            return None
        name, reason = _split(frame.rest, 1)
        if not name:
            session.error(Err.BAD_FRAME, "send C KICK <name> [reason]")
            return None

        def act(target: Account) -> None:
            self._done(session, "KICK", target.name, None, reason)
            self._expel(target, Reason.KICKED)

        return self._onTarget(session, name, "KICK", act)

    def ban(self, session: Session, frame: Frame) -> Deferred[Any] | None:
        return self._sanction(session, frame, BAN)

    def mute(self, session: Session, frame: Frame) -> Deferred[Any] | None:
        return self._sanction(session, frame, MUTE)

    def _sanction(self, session: Session, frame: Frame, kind: str) -> Deferred[Any] | None:
        verb = kind.upper()
        if not self._mayModerate(session, verb):
            return None
        name, duration, reason = _split(frame.rest, 2)
        if not name or not duration:
            session.error(Err.BAD_FRAME, f"send C {verb} <name> <duration> [reason]")
            return None
        try:
            seconds = durations.parse(duration)
        except durations.BadDuration as e:
            session.error(Err.BAD_FRAME, str(e))
            return None
        actor = session.name or ""

        def act(target: Account) -> Deferred[None]:
            nowMs = self._nowMs()
            sanction = Sanction(
                names.caseless(target.name),
                target.name,
                kind,
                durations.until(nowMs, seconds),
                reason,
                actor,
                nowMs,
            )
            assert self.store is not None  # a room with accounts has one

            def written(_: None) -> None:
                self.rulebook.sanctioned(sanction)
                self._done(session, verb, target.name, sanction.until, reason)
                if kind == BAN:
                    self._expel(target, Reason.BANNED)

            return self.store.addSanction(sanction).addCallback(written)

        return self._onTarget(session, name, verb, act)

    def unban(self, session: Session, frame: Frame) -> Deferred[Any] | None:
        return self._lift(session, frame, BAN)

    def unmute(self, session: Session, frame: Frame) -> Deferred[Any] | None:
        return self._lift(session, frame, MUTE)

    def _lift(self, session: Session, frame: Frame, kind: str) -> Deferred[Any] | None:
        verb = "UN" + kind.upper()
        if not self._mayModerate(session, verb):
            return None
        if not frame.rest:
            session.error(Err.BAD_FRAME, f"send C {verb} <name>")
            return None

        def act(target: Account) -> Deferred[None]:
            key = names.caseless(target.name)
            assert self.store is not None  # a room with accounts has one

            def removed(there: bool) -> None:
                self.rulebook.lifted(key, kind)
                if there:
                    self._done(session, verb, target.name, None, "")
                else:  # nothing to lift: said so, nothing to tell the room
                    session.send(codec.command("OK", verb, target.name))

            return self.store.removeSanction(key, kind).addCallback(removed)

        return self._onTarget(session, frame.rest, verb, act)

    def slow(self, session: Session, frame: Frame) -> Deferred[Any] | None:
        if not self._mayModerate(session, "SLOW"):
            return None
        word = frame.rest
        if not (word.isascii() and word.isdigit() and len(word) <= 6 and int(word) <= SLOWEST):
            session.error(Err.BAD_FRAME, f"send C SLOW <seconds>, 0 (off) to {SLOWEST}")
            return None
        seconds = int(word)
        assert self.store is not None  # a room with accounts has one

        def written(_: None) -> None:
            self.rulebook.setSlow(seconds)
            self._done(session, "SLOW", str(seconds), None, "")

        d = self.store.setSlow(seconds).addCallback(written)
        return d.addErrback(self._unavailable, session, "SLOW")

    def role(self, session: Session, frame: Frame) -> Deferred[Any] | None:
        if not self._mayModerate(session, "ROLE"):
            return None
        parts = frame.rest.split(" ")
        if len(parts) != 2 or not parts[0]:
            session.error(Err.BAD_FRAME, "send C ROLE <name> <user|moderator>")
            return None
        name, role = parts
        if self.rulebook.roleOf(accountKey(session)) != "admin":
            self._deny(session, "ROLE", "only admins may change roles")
            return None
        if role == "admin":
            self._deny(session, "ROLE", "admins are made with chatroom-admin only")
            return None
        if role not in GIVEN_ROLES:
            session.error(Err.BAD_FRAME, "a role is user or moderator")
            return None

        def act(target: Account) -> Deferred[None]:
            key = names.caseless(target.name)
            assert self.store is not None  # a room with accounts has one

            def written(found: bool) -> None:
                if not found:  # deleted meanwhile
                    session.error(Err.NO_SUCH_USER, f"{target.name} has no account")
                    return
                self.rulebook.setRole(key, role)
                self._done(session, "ROLE", target.name, None, "", role)

            return self.store.setRole(key, role).addCallback(written)

        return self._onTarget(session, name, "ROLE", act)

    def bans(self, session: Session, frame: Frame) -> Deferred[Any] | None:
        if not self._mayModerate(session, "BANS"):
            return None
        assert self.store is not None  # a room with accounts has one

        def listed(sanctions: list[Sanction]) -> None:
            session.send(codec.command("BANS", str(len(sanctions))))
            for s in sanctions:
                until = durations.shown(s.until)
                words = [s.name, s.kind.upper(), s.actor, until]
                session.send(codec.data("BAN", *words, *([s.reason] if s.reason else [])))

        d = self.store.sanctionsInForce(self._nowMs()).addCallback(listed)
        return d.addErrback(self._unavailable, session, "BANS")

    # What a reading of the database found (another node's, or chatroom-admin's, change).

    def reloaded(self, reloaded: Reloaded) -> None:
        """
        End the sessions here of accounts newly banned (C{BYE BANNED}) or deleted
        (C{BYE KICKED}).
        """
        for session in self.roster.present():
            key = accountKey(session)
            ban = self.rulebook.bannedAt(key)
            if ban is not None and ban in reloaded.banned:
                self.log.info("{label} banned (by {actor})", label=session.label, actor=ban.actor)
                session.close(codec.command("BYE", Reason.BANNED), Reason.BANNED)
            elif key in reloaded.deleted:
                self.log.info("{label}: account deleted", label=session.label)
                session.close(codec.command("BYE", Reason.KICKED), Reason.KICKED)

    # The rules, and what every action does.

    def _mayModerate(self, session: Session, verb: str) -> bool:
        if self.store is None:
            self._deny(session, verb, "this server has no accounts, so no moderators")
            return False
        if not self.rulebook.isStaff(accountKey(session)):
            self._deny(session, verb, "only moderators and admins may do that")
            return False
        return True

    def _deny(self, session: Session, verb: str, why: str) -> None:
        self.log.info("{label}: {verb} denied: {why}", label=session.label, verb=verb, why=why)
        session.error(Err.DENIED, why)

    def _onTarget(
        self, session: Session, name: str, verb: str, act: Callable[[Account], Any]
    ) -> Deferred[Any]:
        """
        Find the account C{name} and check that C{session}'s user may act on it; then C{act}.
        """
        assert self.store is not None  # a room with accounts has one
        key = names.caseless(name.removeprefix("@"))

        def found(account: Account | None) -> Any:
            if account is None:
                session.error(Err.NO_SUCH_USER, f"{name} has no account")
                return None
            actor = accountKey(session)
            theirs = self.rulebook.roleOf(key)
            if key == actor:
                why = "not on yourself"
            elif theirs == "admin":
                why = f"{account.name} is an admin"
            elif theirs == "moderator" and self.rulebook.roleOf(actor) != "admin":
                why = f"only admins act on moderators like {account.name}"
            else:
                return act(account)
            self._deny(session, verb, why)
            return None

        d = self.store.lookup(key).addCallback(found)
        return d.addErrback(self._unavailable, session, verb)

    def _done(
        self,
        session: Session,
        verb: str,
        target: str,
        until: int | None,
        reason: str,
        shownUntil: str | None = None,
    ) -> None:
        """
        The action is written: the actor is answered, everyone is told (C{C MOD}), and it is
        counted and audited.
        """
        actor = session.name or ""
        session.send(codec.command("OK", verb, target))
        end = shownUntil if shownUntil is not None else durations.shown(until)
        notice = codec.command("MOD", verb, target, actor, end, *([reason] if reason else []))
        self.roster.broadcast(notice, None)
        self.audit(actor, verb, target, until, reason if shownUntil is None else shownUntil)

    def audit(self, actor: str, action: str, target: str, until: int | None, reason: str) -> None:
        """
        Count, show and keep one moderation action.
        """
        self.counters.moderated(action.lower())
        self.log.info(
            "moderation: {actor} {action} {target} until {until}{why}",
            actor=actor,
            action=action,
            target=target,
            until=durations.shown(until),
            why=f": {reason}" if reason else "",
        )
        if self.store is None:
            return
        record = AuditRecord(self._nowMs(), self.node, actor, action, target, until, reason)

        def failed(failure: Failure) -> None:
            self.log.failure("moderation: audit record not written", failure)

        self.store.appendAudit(record).addErrback(failed)

    def _expel(self, target: Account, reason: Reason) -> None:
        self.roster.expel(names.key(target.name), target.name, reason)

    def _unavailable(self, failure: Failure, session: Session, verb: str) -> None:
        failure.trap(Unavailable)
        self.log.warn(
            "{label}: {verb} not done: {why}", label=session.label, verb=verb, why=failure.value
        )
        session.error(Err.UNAVAILABLE, "the database is busy right now; try again later")

    def _nowMs(self) -> int:
        return int(self.clock.seconds() * 1000)


def _split(rest: str, words: int) -> list[str]:
    """
    C{rest} as C{words} words and the text after them, each part empty where missing.
    """
    parts = rest.split(" ", words) if rest else []
    return parts + [""] * (words + 1 - len(parts))


def _withReason(first: str, reason: str) -> str:
    return f"{first} {reason}" if reason else first
