"""
What each C{chatroom-admin} command does, through the server's own store
(L{chatroom.store.Store}): the same statements, so the same name rules, the
same look-alike checks and the same change counter the running servers
watch. Names are matched as at login (L{chatroom.names.caseless}); a new
name must pass the rules of PROTOCOL.md section 2, as when registering over
the wire.

A mistake raises L{AdminError}; what was done is said on standard output,
in one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from twisted.internet.defer import Deferred

from chatroom import durations, names
from chatroom.admin.errors import AdminError
from chatroom.admin.output import instant, table
from chatroom.passwords import Passwords
from chatroom.store import BAN, MUTE, Account, AuditRecord, Sanction, Store

#: Who the audit records say acted, for every change made here.
ACTOR = "chatroom-admin"

#: Runs a blocking callable off the reactor thread (password hashing).
ThreadRunner = Callable[..., Deferred[Any]]


@dataclass
class Admin:
    """
    What the commands work with.

    @ivar store: the server's store, open.
    @ivar passwords: the server's own hasher (its argon2id parameters).
    @ivar runInThread: where hashing runs.
    @ivar out: where answers go.
    @ivar clock: seconds since the epoch, now.
    @ivar node: this machine's name, for the audit records.
    """

    store: Store
    passwords: Passwords
    runInThread: ThreadRunner
    out: TextIO
    clock: Callable[[], float]
    node: str

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def nowMs(self) -> int:
        return int(self.clock() * 1000)

    async def audit(
        self, action: str, target: str, until: int | None = None, reason: str = ""
    ) -> None:
        """
        Keep an audit record of a change made (the store has already counted
        the change, so running servers notice it).
        """
        record = AuditRecord(self.nowMs(), self.node, ACTOR, action, target, until, reason)
        await self.store.appendAudit(record)

    async def account(self, name: str) -> Account:
        """
        The account C{name} is (in any case), as at login.

        @raise AdminError: if there is none.
        """
        account = await self.store.lookup(names.caseless(name))
        if account is None:
            raise AdminError(f"no account named {name}")
        return account

    async def hashed(self, password: str) -> str:
        """
        C{password} (prepared) hashed as the server hashes it, off the reactor thread.
        """
        hashed: str = await self.runInThread(self.passwords.hash, password)
        return hashed


def newName(name: str) -> str:
    """
    The spelling C{name} is registered with, if the rules of PROTOCOL.md
    section 2 allow it (checked before a password is asked for).

    @raise AdminError: if they do not.
    """
    try:
        return names.validate(name)
    except names.BadName as e:
        raise AdminError(f"cannot register {name!r}: {e}") from None


def refusal(spelling: str, existing: Account | None, lookAlike: str | None) -> AdminError | None:
    """
    Why C{spelling} cannot be registered when the account C{existing} has
    its name, or C{lookAlike} is a registered name that looks like it; or
    L{None}.
    """
    if existing is not None:
        return AdminError(f"an account named {existing.name} exists already")
    if lookAlike is not None:
        return AdminError(f"cannot register {spelling}: it looks like the account {lookAlike}")
    return None


async def create(admin: Admin, name: str, role: str, password: str) -> None:
    """
    Register C{name} with C{role} and the (prepared) C{password}.
    """
    spelling = newName(name)
    key = names.caseless(spelling)
    existing = await admin.store.lookup(key)
    other = await admin.store.lookAlike(names.key(spelling), names.shownKey(spelling))
    refused = refusal(spelling, existing, other)
    if refused is not None:
        raise refused
    hashed = await admin.hashed(password)
    if not await admin.store.create(key, spelling, hashed):
        raise AdminError(f"cannot register {spelling}: it, or a look-alike, was just registered")
    if role != "user":
        await admin.store.setRole(key, role)
    await admin.audit("CREATE", spelling, reason=role)
    admin.say(f"created account {spelling} ({role})")


async def resetPassword(admin: Admin, name: str, password: str) -> None:
    """
    Give C{name} the new (prepared) C{password}.
    """
    account = await admin.account(name)
    hashed = await admin.hashed(password)
    await admin.store.setPasswordHash(names.caseless(account.name), hashed)
    await admin.audit("PASSWORD", account.name)
    admin.say(f"new password set for {account.name}")


async def listAccounts(admin: Admin) -> None:
    """
    One line per account: name, role, created, and the bans and mutes in force.
    """
    accounts = await admin.store.accountList()
    sanctions = await admin.store.sanctionsInForce(admin.nowMs())
    held: dict[str, list[str]] = {}
    for sanction in sanctions:
        word = "banned" if sanction.kind == BAN else "muted"
        held.setdefault(sanction.key, []).append(f"{word} {_until(sanction.until)}")
    rows = [[a.name, a.role, instant(a.created), ", ".join(held.get(a.key, []))] for a in accounts]
    for line in table(rows):
        admin.say(line)


async def delete(admin: Admin, name: str, erase: bool) -> None:
    """
    Delete C{name}'s account (with C{erase}, its public history and the
    direct messages it sent that wait, too).
    """
    account = await admin.account(name)
    if not await admin.store.deleteAccount(names.caseless(account.name), erase):
        raise AdminError(f"no account named {name}")
    what = "erased its public history and direct messages" if erase else ""
    await admin.audit("DELETE", account.name, reason=what)
    admin.say(f"deleted account {account.name}" + (f"; {what}" if erase else ""))


async def setRole(admin: Admin, name: str, role: str) -> None:
    """
    Give C{name} the role C{role}.
    """
    account = await admin.account(name)
    key = names.caseless(account.name)
    before = await admin.store.roleOf(key)
    if before == role:
        admin.say(f"{account.name} is {role} already")
        return
    if not await admin.store.setRole(key, role):
        raise AdminError(f"no account named {name}")
    await admin.audit("ROLE", account.name, reason=role)
    admin.say(f"{account.name} is now {role} (was {before})")


async def listSanctions(admin: Admin) -> None:
    """
    The bans and mutes in force, soonest end first: name, BAN or MUTE, by
    whom, until when, why.
    """
    sanctions = await admin.store.sanctionsInForce(admin.nowMs())
    rows = [[s.name, s.kind.upper(), s.actor, _end(s.until), s.reason] for s in sanctions]
    for line in table(rows):
        admin.say(line)


async def sanction(admin: Admin, name: str, duration: str, reason: str, mute: bool) -> None:
    """
    Ban (or mute) C{name} for C{duration}, replacing any ban (or mute) it has.
    """
    try:
        seconds = durations.parse(duration)
    except durations.BadDuration as e:
        raise AdminError(str(e)) from None
    account = await admin.account(name)
    now = admin.nowMs()
    end = durations.until(now, seconds)
    kind = MUTE if mute else BAN
    key = names.caseless(account.name)
    await admin.store.addSanction(Sanction(key, account.name, kind, end, reason, ACTOR, now))
    await admin.audit(kind.upper(), account.name, end, reason)
    done = "muted" if mute else "banned"
    admin.say(f"{account.name} {done} {_until(end)}")


async def lift(admin: Admin, name: str, mute: bool) -> None:
    """
    Lift C{name}'s ban (or mute).
    """
    account = await admin.account(name)
    kind = MUTE if mute else BAN
    if not await admin.store.removeSanction(names.caseless(account.name), kind):
        raise AdminError(f"{account.name} is not {'muted' if mute else 'banned'}")
    await admin.audit(f"UN{kind.upper()}", account.name)
    admin.say(f"{account.name} {'unmuted' if mute else 'unbanned'}")


async def audit(admin: Admin, limit: int) -> None:
    """
    The last C{limit} audit records, newest first: when, node, actor,
    action, target, end, reason.
    """
    records = await admin.store.auditLog(limit)
    rows = [
        [
            durations.shown(r.at),
            r.node,
            r.actor,
            r.action,
            r.target,
            _end(r.until) if r.action in ("BAN", "MUTE") else durations.shown(r.until),
            r.reason,
        ]
        for r in records
    ]
    for line in table(rows):
        admin.say(line)


def _end(untilMs: int | None) -> str:
    """
    The end of a ban or mute: RFC 3339 as the protocol shows it, or C{forever}.
    """
    return "forever" if untilMs is None else durations.shown(untilMs)


def _until(untilMs: int | None) -> str:
    return "forever" if untilMs is None else f"until {durations.shown(untilMs)}"
