"""
What one login is made of, apart from the flow (L{chatroom.login}) that
moves it: the words of C{C LOGIN}, the record a session's logging in keeps
(L{LoginAttempt}), and the texts of its refusals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatroom import names
from chatroom.passwords import MAX_PASSWORD, BadPassword, prepare

if TYPE_CHECKING:
    from chatroom.pipeline import Session

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


def nameTaken(spelling: str, lookalike: str | None = None) -> str:
    """
    The text of C{ERR NAME_TAKEN} for C{spelling}, held by someone else
    under that very name or, if given, under C{lookalike}, a look-alike.
    """
    if lookalike is None:
        return f"{spelling} is already in use"
    return f"{spelling} looks like {lookalike}, already in use"


def lookAlike(shown: str, spelling: str) -> str | None:
    """
    C{shown}, if it is another name than C{spelling} that looks like it.
    """
    return shown if names.caseless(shown) != names.caseless(spelling) else None


def newPasswordProblem(password: str) -> str | None:
    """
    Why C{password} cannot be a new account's, or L{None} if it can.
    """
    if not 1 <= len(password) <= MAX_PASSWORD:
        return f"choose 1 to {MAX_PASSWORD} characters"
    try:
        prepare(password)
    except BadPassword as e:
        return str(e)
    return None


class LoginAttempt:
    """
    One session's logging in, from its first C{C LOGIN} until it is
    welcomed or ends: what the login holds (L{chatroom.login.Login.attempts}) and the
    session does not.

    @ivar name: the name reserved for the login under way, as typed.
    @ivar lookalikeKey: that name's look-alike key (L{chatroom.names.key}).
    @ivar registering: the name has no account yet: C{C PASS} makes it.
    @ivar replacing: the user's own older session a C{GHOST} login ends
        once its password is right (1.1): the one present under the name
        at C{C LOGIN}.
    @ivar wrongPasswords: wrong passwords over all the session's tries; it
        outlives L{abandon}, so a new C{C LOGIN} does not start it again.
    """

    __slots__ = ("lookalikeKey", "name", "registering", "replacing", "wrongPasswords")

    def __init__(self) -> None:
        self.name: str | None = None
        self.lookalikeKey: str | None = None
        self.registering = False
        self.replacing: Session | None = None
        self.wrongPasswords = 0

    def abandon(self) -> None:
        """
        The login under way was given up: its name goes, the count stays.
        """
        self.name = self.lookalikeKey = None
        self.registering = False
        self.replacing = None
