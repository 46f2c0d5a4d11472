"""
Limits that keep one client from spoiling the room for everyone else.

These are mechanisms only (a token bucket, a window of events); the chat
service decides what they apply to and what happens when they bite.
"""

from __future__ import annotations

from collections import deque


class TokenBucket:
    """
    Allows C{rate} events a second on average, C{burst} at once.

    Also notices a I{flood}: refusals with no pause of a second or more
    between them, for which L{flooding} gives the duration.
    """

    __slots__ = ("burst", "floodStart", "lastRefusal", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now
        self.floodStart: float | None = None
        self.lastRefusal = now

    def allow(self, now: float) -> bool:
        """
        Take a token if there is one.
        """
        # max(): a clock stepped backwards must not drain the bucket.
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        if self.floodStart is None or now - self.lastRefusal >= 1.0:
            self.floodStart = now
        self.lastRefusal = now
        return False

    def flooding(self, now: float) -> float:
        """
        For how long refusals have kept coming (0 if they stopped).
        """
        if self.floodStart is None or now - self.lastRefusal >= 1.0:
            return 0.0
        return now - self.floodStart


class EventWindow:
    """
    Counts events per key (a source address) over a sliding window: wrong
    passwords, so that one address cannot guess them at full speed across
    many connections, or new accounts, so that it cannot make them by the
    thousand.
    """

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}

    def record(self, key: str, now: float) -> None:
        """
        C{key} did it once more, at C{now}.
        """
        if self.limit <= 0:
            return
        times = self._events.get(key)
        if times is None:
            times = self._events[key] = deque(maxlen=self.limit)
        times.append(now)

    def blocked(self, key: str, now: float) -> bool:
        """
        Whether C{key} did it C{limit} times within the last window.
        """
        times = self._events.get(key)
        return times is not None and len(times) >= self.limit and now - times[0] < self.window

    def forgetOld(self, now: float) -> None:
        """
        Drop keys whose last event is older than the window: memory stays
        proportional to the addresses active right now.
        """
        for key in [k for k, times in self._events.items() if now - times[-1] >= self.window]:
            del self._events[key]

    def __len__(self) -> int:
        return len(self._events)
