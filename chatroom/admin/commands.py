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

from chatroom import names
from chatroom.admin.errors import AdminError
from chatroom.admin.passwordinput import password
from chatroom.passwords import Passwords
from chatroom.store import Account, Store

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
    @ivar stdin: where a piped password comes from.
    @ivar clock: seconds since the epoch, now.
    @ivar node: this machine's name, for the audit records.
    """

    store: Store
    passwords: Passwords
    runInThread: ThreadRunner
    out: TextIO
    stdin: TextIO
    clock: Callable[[], float]
    node: str

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    async def account(self, name: str) -> Account:
        """
        The account C{name} is (in any case), as at login.

        @raise AdminError: if there is none.
        """
        account = await self.store.lookup(names.caseless(name))
        if account is None:
            raise AdminError(f"no account named {name}")
        return account

    async def hashed(self, name: str, passwordFile: str | None) -> str:
        """
        A new password for C{name}, asked for (L{chatroom.admin.passwordinput}) and hashed.
        """
        prepared = password(name, passwordFile, self.stdin)
        hashed: str = await self.runInThread(self.passwords.hash, prepared)
        return hashed


async def create(admin: Admin, name: str, role: str, passwordFile: str | None) -> None:
    """
    Register C{name} with C{role}, its password asked for.
    """
    try:
        spelling = names.validate(name)
    except names.BadName as e:
        raise AdminError(f"cannot register {name!r}: {e}") from None
    existing = await admin.store.lookup(names.caseless(spelling))
    if existing is not None:
        raise AdminError(f"an account named {existing.name} exists already")
    other = await admin.store.lookAlike(names.key(spelling), names.shownKey(spelling))
    if other is not None:
        raise AdminError(f"cannot register {spelling}: it looks like the account {other}")
    hashed = await admin.hashed(spelling, passwordFile)
    if not await admin.store.create(names.caseless(spelling), spelling, hashed):
        raise AdminError(
            f"cannot register {spelling}: it (or a look-alike) was registered meanwhile"
        )
    admin.say(f"created account {spelling} ({role})")


async def resetPassword(admin: Admin, name: str, passwordFile: str | None) -> None:
    """
    Give C{name} a new password, asked for.
    """
    account = await admin.account(name)
    hashed = await admin.hashed(account.name, passwordFile)
    await admin.store.setPasswordHash(names.caseless(account.name), hashed)
    admin.say(f"new password set for {account.name}")
