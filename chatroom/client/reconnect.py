"""
Coming back after a lost session: when to try again.

L{Backoff} says how long to wait before each attempt and when to give up;
L{Reconnector} waits that long on a clock, showing a countdown, and tries.
What was missed meanwhile is the arrival's business
(L{chatroom.client.arrival}, L{chatroom.client.catchup}).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence

from twisted.internet import error
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.python.failure import Failure

from chatroom.client.text import _


def whyNotConnected(failure: Failure, host: str) -> str:
    """
    Why an attempt to connect failed, as a person would say it (Twisted's
    own text, "Connection was refused by other side: 111: Connection
    refused.", is for programmers).
    """
    if failure.check(error.ConnectionRefusedError):
        return _("the connection was refused; is the server running?")
    if failure.check(error.DNSLookupError, error.UnknownHostError, socket.gaierror):
        return _("there is no computer named {host}.").format(host=host)
    if failure.check(error.NoRouteError):
        return _("there is no way to reach it from here; is the network up?")
    if failure.check(error.TCPTimedOutError, error.TimeoutError):
        return _("it did not answer in time.")
    return failure.getErrorMessage()


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
        status: Callable[[str], object] | None = None,
    ) -> None:
        """
        @param show: prints a line (the loss, a failed attempt, giving up).
        @param status: prints the countdown, where each line replaces the
            one before it as long as nothing else was shown in between;
            C{show} if not given.
        """
        self.clock = clock
        self.show = show
        self.status = status or show
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
        self.status(
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
