"""
The C{chatroom-admin} console script: the command line read, the database
found and opened, the command run, and every mistake told in one line (exit
status 1; misuse of the command line, 2).
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from twisted.internet.defer import Deferred
from twisted.internet.task import react
from twisted.internet.threads import deferToThread

from chatroom import names
from chatroom.admin import certificates, commands, opening, passwordinput
from chatroom.admin.arguments import parse
from chatroom.admin.errors import MISTAKE, AdminError
from chatroom.passwords import Passwords
from chatroom.statements import accounts
from chatroom.store import Unavailable


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """
    Run C{chatroom-admin} with C{argv} (the process's arguments by default),
    then exit.
    """
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "make-cert":
            certificates.make(args.host, args.days, args.key, args.cert, sys.stdout)
            sys.exit(0)
        db, timeout = opening.where(args)
        database = opening.check(db, timeout, mayCreate=_creates(args))
        newPassword = _newPassword(args, database)
    except AdminError as e:
        _fail(e)
    react(lambda reactor: Deferred.fromCoroutine(_run(reactor, args, database, newPassword)))


def _creates(args: argparse.Namespace) -> bool:
    return args.command == "accounts" and args.action == "create"


def _newPassword(args: argparse.Namespace, database: opening.Database) -> str | None:
    """
    The new password C{accounts create} and C{reset-password} need, asked
    for before the reactor runs (so that Ctrl-C at the prompt ends the
    command), once the name is known to be one it can be given to.

    @raise AdminError: if the name cannot have one, or none is given.
    """
    if args.command != "accounts" or args.action not in ("create", "reset-password"):
        return None
    if args.action == "create":
        name = commands.newName(args.name)
        key = names.caseless(name)
        existing = opening.peek(database, accounts.lookup, key)
        lookAlike = opening.peek(
            database, accounts.lookAlike, names.key(name), names.shownKey(name)
        )
        refused = commands.refusal(name, existing, lookAlike)
        if refused is not None:
            raise refused
    else:
        account = opening.peek(database, accounts.lookup, names.caseless(args.name))
        if account is None:
            raise AdminError(f"no account named {args.name}")
        name = account.name
    return passwordinput.password(name, args.password_file, sys.stdin)


def _fail(error: Exception) -> NoReturn:
    print(f"chatroom-admin: {error}", file=sys.stderr, flush=True)
    sys.exit(MISTAKE)


async def _run(
    reactor: Any, args: argparse.Namespace, database: opening.Database, newPassword: str | None
) -> None:
    """
    The command, on the store opened for it; any mistake ends the process
    with one line and status 1 (through L{SystemExit}, which C{react} obeys).
    """
    try:
        store = await opening.opened(reactor, database)
    except AdminError as e:
        _fail(e)
    admin = commands.Admin(
        store=store,
        passwords=Passwords(),
        runInThread=deferToThread,
        out=sys.stdout,
        clock=time.time,
        node=socket.gethostname(),
    )
    try:
        await _dispatch(admin, args, newPassword or "")
    except (AdminError, Unavailable) as e:
        await store.close()
        database.unmake()
        _fail(e if isinstance(e, AdminError) else AdminError(f"{database.shown}: {e}"))
    await store.close()
    if database.new:
        print(f"chatroom-admin: made a new database, {database.shown}", file=sys.stderr)


async def _dispatch(admin: commands.Admin, args: argparse.Namespace, newPassword: str) -> None:
    match (args.command, getattr(args, "action", None)):
        case ("accounts", "create"):
            await commands.create(admin, args.name, args.role, newPassword)
        case ("accounts", "reset-password"):
            await commands.resetPassword(admin, args.name, newPassword)
        case ("accounts", "list"):
            await commands.listAccounts(admin)
        case ("accounts", "delete"):
            await commands.delete(admin, args.name, args.erase)
        case ("accounts", "role"):
            await commands.setRole(admin, args.name, args.role)
        case ("bans", "list"):
            await commands.listSanctions(admin)
        case ("bans", "add"):
            await commands.sanction(
                admin, args.name, args.duration, " ".join(args.reason), args.mute
            )
        case ("bans", "remove"):
            await commands.lift(admin, args.name, args.mute)
        case ("audit", None):
            await commands.audit(admin, args.limit)
        case _:  # pragma: no cover -- argparse allows no other
            raise AdminError(f"{args.command} {args.action}: not a command")
