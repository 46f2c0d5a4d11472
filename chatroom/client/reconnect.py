"""
Coming back after a lost session: when to try again, and what was missed.

L{Backoff} says how long to wait before each attempt and when to give up;
L{Reconnector} waits that long on a clock, showing a countdown, and tries;
L{Catchup} remembers the last public messages the user saw, asks the
server for its history once back (C{C HISTORY n}, 1.1) and shows only what
came after them.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twisted.internet.interfaces import IDelayedCall, IReactorTime

from chatroom.client.text import _

#: Public messages asked for once back (the server sends at most its own history size).
MISSED_LIMIT = 100

#: How far apart the server's clock and ours may be when a message in the
#: history is recognised as one we saw.
CLOCK_SKEW = 120.0

#: How many of the last messages seen are matched against the history, so
#: that a repeated "ok" is not taken for the one we saw.
REMEMBERED = 3


class Backoff:
    """
    The waits before each attempt to reconnect: C{first}, doubled each
    time up to C{cap}, for at most C{attempts} attempts (1, 2, 4, 8, 16,
    30, 30 … seconds: about four minutes in all by default).
    """

    def __init__(self, first: float = 1.0, cap: float = 30.0, attempts: int = 12) -> None:
        self.first = first
        self.cap = cap
        self.attempts = attempts

    def delay(self, attempt: int) -> float | None:
        """
        How long to wait before attempt C{attempt} (0 for the first), or
        L{None}: give up.
        """
        if attempt >= self.attempts:
            return None
        return float(min(self.cap, self.first * 2**attempt))


def countdownMarks(delay: float) -> list[float]:
    """
    When, in seconds left, a wait of C{delay} shows its countdown: at its
    start, then at 20, 10 and 5 seconds left. Once a second would bury the
    conversation under notices.
    """
    return [delay] + [mark for mark in (20.0, 10.0, 5.0) if mark < delay]


class Reconnector:
    """
    Waits, with a visible countdown, then calls C{connect}; after a failed
    attempt (L{lost} again), waits longer; after the last one, C{giveUp}.
    """

    def __init__(
        self,
        clock: IReactorTime,
        show: Callable[[str], object],
        connect: Callable[[], object],
        giveUp: Callable[[str], object],
        backoff: Backoff | None = None,
    ) -> None:
        self.clock = clock
        self.show = show
        self.connect = connect
        self.giveUp = giveUp
        self.backoff = backoff or Backoff()
        self.attempt = 0
        self.since: float | None = None  # when the session was lost; None: connected
        self._call: IDelayedCall | None = None

    @property
    def active(self) -> bool:
        return self.since is not None

    def lost(self, why: str) -> None:
        """
        The session was lost (first call), or an attempt to come back failed.
        """
        if self.since is None:
            self.since = self.clock.seconds()
            self.attempt = 0
            self.show(why)
        else:
            self.show(_("Could not reconnect: {why}").format(why=why))
        self._cancel()
        delay = self.backoff.delay(self.attempt)
        if delay is None:
            waited = self.clock.seconds() - self.since
            self.stop()
            self.giveUp(
                _("Gave up reconnecting after {n} attempts ({s:.0f} s).").format(
                    n=self.attempt, s=waited
                )
            )
            return
        self.attempt += 1
        self._countdown(countdownMarks(delay))

    def _countdown(self, marks: Sequence[float]) -> None:
        left, rest = marks[0], marks[1:]
        self.show(
            _("Reconnecting in {left:g} s (attempt {n} of {most}; Ctrl-C leaves)...").format(
                left=left, n=self.attempt, most=self.backoff.attempts
            )
        )
        if rest:
            self._call = self.clock.callLater(left - rest[0], self._countdown, rest)
        else:
            self._call = self.clock.callLater(left, self._try)

    def _try(self) -> None:
        self._call = None
        self.connect()

    def succeeded(self) -> float:
        """
        Back in: how long we were away.
        """
        away = 0.0 if self.since is None else self.clock.seconds() - self.since
        self.stop()
        return away

    def stop(self) -> None:
        self._cancel()
        self.since = None

    def _cancel(self) -> None:
        call, self._call = self._call, None
        if call is not None and call.active():
            call.cancel()


@dataclass(frozen=True)
class Said:
    """
    A public message: who said it and when (seconds since the epoch, UTC).
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


def parseTime(stamp: str) -> float | None:
    """
    The protocol's C{2026-11-21T10:52:07.123Z} as seconds since the epoch.
    """
    head, dot, fraction = stamp.removesuffix("Z").partition(".")
    try:
        seconds = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
        return seconds + (int(fraction) / 10 ** len(fraction) if dot and fraction else 0.0)
    except ValueError:
        return None


def parseHistory(rest: str) -> Said | None:
    """
    The part of a C{D HISTORY <time> <from> <transport> <text>} frame after C{HISTORY }.
    """
    parts = rest.split(" ", 3)
    if len(parts) < 4:
        return None
    when = parseTime(parts[0])
    return None if when is None else Said(when, parts[1], parts[2], parts[3])


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


class Catchup:
    """
    What the user saw, and the history that fills the gap once back.

    Frames pass through L{received} before the machine sees them. While a
    C{C HISTORY} request is answered, the frames that arrive with it are
    held: a public message relayed before the reply is also in it, and is
    shown once, in its place.
    """

    def __init__(
        self,
        show: Callable[[str], object],
        deliver: Callable[[str], object],
        send: Callable[[str], object],
        clock: IReactorTime,
        me: Callable[[], str],
    ) -> None:
        self.show = show
        self.deliver = deliver
        self.send = send
        self.clock = clock
        self.me = me
        self.seen: list[Said] = []
        self.lostAt = 0.0
        self._asking = False
        self._expected: int | None = None  # D HISTORY frames still to come
        self._history: list[Said] = []
        self._held: list[str] = []
        self._away = 0.0
        self._sayingPublicly = False  # C PM sent, its D not yet
        self._mine: str | None = None  # our public message, until the server's OK

    def _saw(self, said: Said) -> None:
        self.seen = [*self.seen, said][-REMEMBERED:]

    def sent(self, frame: str) -> None:
        """
        A frame we send: our own public messages are seen too.
        """
        if frame == "C PM":
            self._sayingPublicly = True
        elif frame.startswith("D ") and self._sayingPublicly:
            self._sayingPublicly = False
            self._mine = frame[2:]
        elif frame.startswith("C "):
            self._sayingPublicly = False

    def lost(self) -> None:
        self.lostAt = self.clock.seconds()
        self._sayingPublicly = False
        self._mine = None
        self._asking = False
        self._expected = None
        held, self._held = self._held, []
        for line in held:
            self._pass(line)

    def back(self, away: float) -> None:
        """
        Logged in again, after C{away} seconds: ask what was said meanwhile.
        """
        self._asking = True
        self._expected = None
        self._history = []
        self._away = away
        self.send(f"C HISTORY {MISSED_LIMIT}")

    def received(self, line: str) -> None:
        """
        A frame from the server, on its way to the machine.
        """
        if not self._asking:
            self._pass(line)
        elif line.startswith("C HISTORY "):
            count = line.removeprefix("C HISTORY ")
            self._expected = int(count) if count.isdigit() else 0
            self._maybeDone()
        elif self._expected is not None and line.startswith("D HISTORY "):
            said = parseHistory(line.removeprefix("D HISTORY "))
            if said is not None:
                self._history.append(said)
            self._expected -= 1
            self._maybeDone()
        elif self._expected is None and line.startswith("C ERR "):
            # The reply to our request: a server without history (version 1).
            self._asking = False
            self.show(
                _(
                    "Back in the room after {s:.0f} s; this server keeps no history, so what was"
                ).format(s=self._away)
                + _(" said meanwhile is not known.")
            )
            self._release()
        else:
            self._held.append(line)

    def _maybeDone(self) -> None:
        if self._expected:
            return
        self._asking = False
        self._expected = None
        gap = missed(self._history, self.seen, self.lostAt)
        # Public messages relayed before the reply are in it: shown from it.
        relayed = [line for line in self._held if line.startswith("D PM ")]
        shownFromHistory = {_relayedKey(line) for line in relayed} & {
            (s.sender.casefold(), s.text) for s in gap
        }
        self._held = [
            line
            for line in self._held
            if not (line.startswith("D PM ") and _relayedKey(line) in shownFromHistory)
        ]
        if gap:
            self.show(
                _("Back in the room after {s:.0f} s. Said while you were away:").format(
                    s=self._away
                )
            )
            for said in gap:
                self.show(formatMissed(said))
                self._saw(said)
        else:
            self.show(
                _("Back in the room after {s:.0f} s; nothing was said meanwhile.").format(
                    s=self._away
                )
            )
        self._release()

    def _release(self) -> None:
        held, self._held = self._held, []
        for line in held:
            self._pass(line)

    def _pass(self, line: str) -> None:
        if line.startswith("D PM "):
            parts = line.split(" ", 4)
            if len(parts) == 5:
                self._saw(Said(self.clock.seconds(), parts[2], parts[3], parts[4]))
        elif line.startswith("C OK PM") and self._mine is not None:
            self._saw(Said(self.clock.seconds(), self.me(), "", self._mine))
            self._mine = None
        self.deliver(line)


def _relayedKey(line: str) -> tuple[str, str] | None:
    parts = line.split(" ", 4)
    return (parts[2].casefold(), parts[4]) if len(parts) == 5 else None


def formatMissed(said: Said) -> str:
    """
    A message from the history, with its local time.
    """
    stamp = time.strftime("%H:%M", time.localtime(said.when))
    return f"{stamp} {said.sender}[{said.transport}] : {said.text}"
