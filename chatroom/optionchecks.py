"""
What the value of an option of C{twistd chatroom} must be, and the checks
across several options (C{--redis} needs a shared database): each a plain
function of the words given, so L{chatroom.options} stays the table of
options and their defaults.
"""

from __future__ import annotations

from typing import Any

from twisted.python import usage

from chatroom.database import isURL
from chatroom.plaintext import PlaintextLogins


def positive(kind: type) -> Any:
    def check(value: str) -> Any:
        number = kind(value)
        if number <= 0:
            raise ValueError(f"{value} is not above zero")
        return number

    check.coerceDoc = "Must be above zero."  # type: ignore[attr-defined]
    return check


def atLeastZero(kind: type) -> Any:
    def check(value: str) -> Any:
        number = kind(value)
        if number < 0:
            raise ValueError(f"{value} is below zero")
        return number

    check.coerceDoc = "0 turns it off."  # type: ignore[attr-defined]
    return check


def where(value: str) -> PlaintextLogins:
    try:
        return PlaintextLogins(value)
    except ValueError:
        choices = ", ".join(where.value for where in PlaintextLogins)
        raise ValueError(f"{value!r} is not one of {choices}") from None


def port(value: str) -> int:
    if not (value.isascii() and value.isdigit() and 0 <= int(value) <= 65535):
        raise ValueError(f"{value!r} is not a port: give a number from 0 to 65535 (0: any free)")
    return int(value)


def checkIRCChannel(name: str) -> str:
    """
    C{--irc-channel}: one channel name, C{#} and up to 63 more characters.
    """
    if (
        not name.startswith("#")
        or len(name) < 2
        or len(name.encode("utf-8")) > 64
        or any(c in name for c in " ,:\x07")
        or any(ord(c) < 32 for c in name)
    ):
        raise usage.UsageError(f"--irc-channel {name!r} is not a channel name (such as #chatroom)")
    return name


def checkCluster(redis: str, db: str, noAccounts: bool) -> None:
    """
    C{--redis} joins nodes that must share their accounts: refuse it with
    a file of this machine's, or without accounts.
    """
    if not isURL(db):
        raise usage.UsageError(
            "--redis needs --db postgresql://...: the nodes must share their accounts,"
            " and an SQLite file cannot be shared"
        )
    if noAccounts:
        raise usage.UsageError("--redis needs accounts: it cannot be used with --no-accounts")
    try:
        from chatroom.cluster.engine import parseURL
    except ImportError:
        raise usage.UsageError(
            "--redis needs txredisapi (pip install 'chatroom[cluster]')"
        ) from None
    try:
        parseURL(redis)
    except ValueError as e:
        raise usage.UsageError(f"--redis {redis.split('@')[-1]}: {e}") from None
