"""
Usernames: what is allowed, and when two spellings are the same person.
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 32

_PUNCTUATION = frozenset("_-.")


class BadName(ValueError):
    """
    A username that breaks the naming rules; the message says which.
    """


def normalise(name: str) -> str:
    """
    The spelling a name is shown with: its NFKC form.

    NFKC folds look-alike compatibility forms (full-width letters,
    ligatures) so that they cannot impersonate plain ones.
    """
    return unicodedata.normalize("NFKC", name)


def key(name: str) -> str:
    """
    The identity of a name: two names with one key are one account.

    This is Unicode's caseless identifier matching, so that C{Alice},
    C{alice} and C{ALICE} cannot be three different people.
    """
    return unicodedata.normalize("NFKC", normalise(name).casefold())


def _allowed(char: str, first: bool) -> bool:
    category = unicodedata.category(char)
    if category[0] == "L" or category == "Nd" or char == "_":
        return True
    if first:
        return False
    # Combining marks belong to the letter before them (Devanagari, Thai...).
    return char in _PUNCTUATION or category in ("Mn", "Mc")


def validate(name: str) -> str:
    """
    Check a requested username and return its display spelling.

    @raise BadName: when the name breaks the rules of PROTOCOL.md section 2.
    """
    spelling = normalise(name)
    if not spelling:
        raise BadName("a username is needed")
    if len(spelling) > MAX_NAME:
        raise BadName(f"usernames are at most {MAX_NAME} characters")
    if not _allowed(spelling[0], first=True):
        raise BadName("usernames start with a letter, a digit or '_'")
    if not all(_allowed(c, first=False) for c in spelling[1:]):
        raise BadName("usernames hold only letters, digits, '_', '-' and '.'")
    return spelling
