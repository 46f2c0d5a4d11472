"""
C{chatroom-admin}'s command line: the commands of PROTOCOL.md section 12 and
C{make-cert}.

Passwords are deliberately not options: a command line is seen by every user
of the machine (C{ps}) and kept in shell histories. They come from
L{chatroom.admin.secrets} instead.

argparse reports misuse itself, in one line after the usage, with exit status
2 (L{chatroom.admin.errors.MISUSE}).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from chatroom.store import BUSY_TIMEOUT, ROLES

#: Where make-cert writes when not told: the current directory.
DEFAULT_KEY = "chatroom-key.pem"
DEFAULT_CERT = "chatroom-cert.pem"

#: How long a make-cert certificate is valid by default: long, since clients
#: remember its fingerprint and a new certificate means telling every user.
DEFAULT_DAYS = 3650


class _Parser(argparse.ArgumentParser):
    """
    A parser that takes options only as spelled in full: argparse would
    otherwise read C{--password hunter2} as C{--password-file hunter2}.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _databaseOptions(parser: argparse.ArgumentParser, default: object) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--db",
        metavar="PATH|URL",
        default=default,
        help="the server's database: an SQLite file or a postgresql:// URL"
        " (default: chatroom.sqlite, as the server's)",
    )
    where.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="the server's TOML configuration file, to find its db (and db-timeout) there",
    )
    parser.add_argument(
        "--db-timeout",
        metavar="SECONDS",
        type=_seconds,
        default=default,
        help=f"how long a call may wait for the database (default: {BUSY_TIMEOUT:g})",
    )


def _passwordOption(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help="read the password from the first line of FILE (else it is asked at a"
        " terminal, twice, or read from one line of piped standard input)",
    )


def parser() -> argparse.ArgumentParser:
    """
    The whole command line; the chosen command is in C{command} (and C{action}).
    """
    top = _Parser(
        prog="chatroom-admin",
        description="Manage a chatroom server's accounts, bans and mutes, and read its"
        " audit log, in its database, whether or not the server runs; make a TLS"
        " certificate for it.",
    )
    _databaseOptions(top, None)
    # The same options after the command too (chatroom-admin accounts list --db x),
    # without overwriting those given before it.
    shared = _Parser(add_help=False)
    _databaseOptions(shared, argparse.SUPPRESS)
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    accounts = commands.add_parser("accounts", help="list, create, change or delete accounts")
    account = accounts.add_subparsers(dest="action", metavar="ACTION", required=True)
    account.add_parser("list", parents=[shared], help="every account, its role and sanctions")
    create = account.add_parser("create", parents=[shared], help="register an account")
    create.add_argument("name")
    create.add_argument("--role", choices=ROLES, default="user", help="(default: user)")
    _passwordOption(create)
    reset = account.add_parser("reset-password", parents=[shared], help="set a new password")
    reset.add_argument("name")
    _passwordOption(reset)
    delete = account.add_parser("delete", parents=[shared], help="remove an account")
    delete.add_argument("name")
    delete.add_argument(
        "--erase",
        action="store_true",
        help="also delete its public history and the direct messages kept for or from it",
    )
    role = account.add_parser("role", parents=[shared], help="change an account's role")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)

    bans = commands.add_parser("bans", help="list, add or remove bans and mutes")
    ban = bans.add_subparsers(dest="action", metavar="ACTION", required=True)
    ban.add_parser("list", parents=[shared], help="the bans and mutes in force")
    add = ban.add_parser("add", parents=[shared], help="ban (or --mute) an account")
    add.add_argument("name")
    add.add_argument("duration", help="10m, 2h, 3d (minutes, hours, days) or forever")
    add.add_argument("reason", nargs="*", help="why (the rest of the line)")
    add.add_argument("--mute", action="store_true", help="mute instead of ban")
    remove = ban.add_parser("remove", parents=[shared], help="lift a ban (or --mute)")
    remove.add_argument("name")
    remove.add_argument("--mute", action="store_true", help="lift a mute instead of a ban")

    audit = commands.add_parser("audit", parents=[shared], help="the audit log, newest first")
    audit.add_argument(
        "--limit", type=_positive, default=50, metavar="N", help="at most N records (50)"
    )

    cert = commands.add_parser(
        "make-cert", help="write a key and a self-signed TLS certificate, print its fingerprint"
    )
    cert.add_argument(
        "--host",
        action="append",
        metavar="NAME",
        help="a host name or IP address the certificate is for; repeat for more"
        " (default: this machine's host name, localhost and 127.0.0.1)",
    )
    cert.add_argument(
        "--days", type=_positive, default=DEFAULT_DAYS, help=f"validity (default: {DEFAULT_DAYS})"
    )
    cert.add_argument(
        "--key", default=DEFAULT_KEY, help=f"the private key's file (default: {DEFAULT_KEY})"
    )
    cert.add_argument(
        "--cert",
        default=DEFAULT_CERT,
        help=f"the certificate's file (default: {DEFAULT_CERT})",
    )
    return top


def parse(args: Sequence[str]) -> argparse.Namespace:
    """
    C{args} read; exits with status 2 and a usage line if they cannot be.
    """
    return parser().parse_args(args)
