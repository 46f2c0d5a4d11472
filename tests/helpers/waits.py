"""
Waiting in tests that run on the real reactor: every wait is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from twisted.internet.task import deferLater


async def pause(seconds: float) -> None:
    """
    Let the reactor run for C{seconds}.
    """
    from twisted.internet import reactor

    await deferLater(reactor, seconds)


async def eventually(done: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """
    Poll C{done} every 20 ms until it is true; fail, naming C{what}, after C{timeout} seconds.
    """
    from twisted.internet import reactor

    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await deferLater(reactor, 0.02, lambda: None)


async def readUntil(client, frame: str, limit: int = 2000) -> None:
    """
    Read a TCP client's frames until C{frame} comes (or fail).
    """
    for _ in range(limit):
        if await client.next() == frame:
            return
    raise AssertionError(f"no {frame!r} in {limit} frames")
