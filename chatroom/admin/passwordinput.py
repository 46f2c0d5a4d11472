"""
Where C{chatroom-admin} takes a password from: a terminal prompt (asked
twice, the two must match), one line of piped standard input, or the first
line of C{--password-file}; never the command line, which every user of the
machine can read (C{ps}) and which shells keep in their histories.

The password is then prepared and checked as the server prepares one
(PRECIS OpaqueString, 1 to 256 characters: L{chatroom.passwords}).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import TextIO

from chatroom.admin.errors import AdminError
from chatroom.passwords import MAX_PASSWORD, BadPassword, prepare


def fromFile(path: str) -> str:
    """
    The first line of C{path}, without its line ending.

    @raise AdminError: if the file cannot be read or its first line is empty.
    """
    try:
        with open(path, encoding="utf-8") as f:
            line = f.readline()
    except OSError as e:
        raise AdminError(f"cannot read --password-file {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise AdminError(f"--password-file {path} is not UTF-8 text") from None
    return _checked(_line(line), f"the first line of {path}")


def fromPipe(stdin: TextIO) -> str:
    """
    One line of piped standard input, without its line ending.

    @raise AdminError: if there is none.
    """
    try:
        line = stdin.readline()
    except UnicodeDecodeError:
        raise AdminError("standard input is not UTF-8 text") from None
    if not line:
        raise AdminError("no password on standard input (one line was expected)")
    return _checked(_line(line), "the line on standard input")


def fromTerminal(name: str, ask: Callable[[str], str] = getpass.getpass) -> str:
    """
    A password typed twice, unseen, at the terminal.

    @raise AdminError: if the two differ or the password cannot be used.
    """
    try:
        first = ask(f"New password for {name}: ")
        second = ask("The same password again: ")
    except (EOFError, KeyboardInterrupt):
        raise AdminError("no password given") from None
    if first != second:
        raise AdminError("the two passwords differ; nothing was changed")
    return _checked(first, "the password")


def password(name: str, passwordFile: str | None, stdin: TextIO) -> str:
    """
    The new password for C{name}, from wherever it was given, prepared as the
    server prepares passwords (L{chatroom.passwords.prepare}).

    @raise AdminError: if none could be had, or it breaks the rules.
    """
    if passwordFile is not None:
        return fromFile(passwordFile)
    if stdin.isatty():
        return fromTerminal(name)
    return fromPipe(stdin)


def _line(line: str) -> str:
    return line.removesuffix("\n").removesuffix("\r")


def _checked(password: str, what: str) -> str:
    if not password:
        raise AdminError(f"{what} is empty: a password is needed")
    if len(password) > MAX_PASSWORD:
        raise AdminError(f"{what} is too long: passwords are at most {MAX_PASSWORD} characters")
    try:
        return prepare(password)
    except BadPassword as e:
        raise AdminError(f"{what} cannot be used: {e}") from None
