"""
Durations as moderators type them (C{10m}, C{2h}, C{3d}, C{forever}) and ends as the
protocol shows them (section 11): one parser for the room and for C{chatroom-admin}, so that
both accept exactly the same words.
"""

from __future__ import annotations

import re

from chatroom.history import timestamp

_DURATION = re.compile(r"([1-9][0-9]{0,5})([mhd])")
_UNIT = {"m": 60, "h": 3600, "d": 86400}

#: The longest finite duration taken (100 years): beyond it, say C{forever}. Keeps every
#: end a time the protocol can show.
LONGEST = 36500 * 86400


class BadDuration(ValueError):
    """
    Not a duration: not a positive whole number followed by C{m}, C{h} or C{d}, nor
    C{forever}, or longer than L{LONGEST}.
    """


def parse(word: str) -> int | None:
    """
    The seconds C{word} stands for, or L{None} for C{forever}.

    @raise BadDuration: for anything else (C{0m}, C{10}, C{1w}, C{-1h}, C{10M}, ...).
    """
    if word == "forever":
        return None
    match = _DURATION.fullmatch(word)
    if match is None:
        raise BadDuration(f"not a duration: {word!r} (say 10m, 2h, 3d or forever)")
    seconds = int(match.group(1)) * _UNIT[match.group(2)]
    if seconds > LONGEST:
        raise BadDuration(f"too long: {word!r} (at most 36500d; or say forever)")
    return seconds


def until(nowMs: int, seconds: int | None) -> int | None:
    """
    The end, in milliseconds since the epoch, of C{seconds} (L{parse}'s answer) from C{nowMs}.
    """
    return None if seconds is None else nowMs + seconds * 1000


def shown(untilMs: int | None) -> str:
    """
    An end as the protocol shows it: RFC 3339 UTC with milliseconds, or C{-} for none.
    """
    return "-" if untilMs is None else timestamp(untilMs)
