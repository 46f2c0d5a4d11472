"""
The one door every sentence the client shows goes through.

It is the identity today; a translation (issue 13's Turkish) replaces
L{_} with a gettext lookup, and every prompt and notice follows without
hunting for strings. Sentences are written whole, with C{str.format}
fields rather than pieces glued together, so a translator can reorder them.
"""

from __future__ import annotations


def _(message: str) -> str:
    """
    C{message} in the user's language (for now, as written).
    """
    return message
