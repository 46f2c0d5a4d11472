"""
What was said while we were away: matching the server's history against
the public messages the user last saw.

Pure functions over L{Said}, without I/O or a clock of their own, so the
rules (what counts as seen, what as missed) are tested on their own; the
arrival (L{chatroom.client.arrival}) applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: How far apart the server's clock and ours may be when a message in the
#: history is recognised as one we saw.
CLOCK_SKEW = 120.0

#: How many of the last messages seen are matched against the history, so
#: that a repeated "ok" is not taken for the one we saw.
REMEMBERED = 3


@dataclass(frozen=True)
class Said:
    """
    A public message: who said it and when (seconds since the epoch; ours
    for what we saw, the server's for its history).
    """

    when: float
    sender: str
    transport: str
    text: str

    def same(self, other: Said) -> bool:
        return (
            self.sender.casefold() == other.sender.casefold()
            and self.text == other.text
            and abs(self.when - other.when) <= CLOCK_SKEW
        )


def remember(seen: Sequence[Said], said: Said) -> list[Said]:
    """
    The last messages seen once C{said} is shown too.
    """
    return [*seen, said][-REMEMBERED:]


def missed(history: Sequence[Said], seen: Sequence[Said], lostAt: float) -> list[Said]:
    """
    The messages of C{history} (oldest first) that came after those in
    C{seen} (the last ones shown, oldest first).

    The latest place where the history ends with what we saw last (as
    much of it as the history holds) marks where we left; without one
    (our last message fell out of the history, or we saw none), whatever
    is newer than the last message seen, or than the loss, is missed,
    since showing one message twice is better than losing one.
    """
    if seen:
        for end in range(len(history), 0, -1):
            tail = history[max(0, end - len(seen)) : end]
            if all(a.same(b) for a, b in zip(reversed(tail), reversed(seen), strict=False)):
                return list(history[end:])
    since = seen[-1].when if seen else lostAt
    return [said for said in history if said.when > since]


def alsoInHistory(history: Sequence[Said], relayed: Sequence[Said]) -> int:
    """
    How many of the public messages C{relayed} to us while the history was
    asked for (oldest first) are the last entries of that C{history}: the
    server may have stored them before it read it. They are shown once,
    from the history, in their place.
    """
    for count in range(min(len(history), len(relayed)), 0, -1):
        tail = history[len(history) - count :]
        if all(a.same(b) for a, b in zip(tail, relayed[:count], strict=True)):
            return count
    return 0
