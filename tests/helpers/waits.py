"""
Waiting in tests that run on the real reactor: every wait is bounded.
"""

from __future__ import annotations

from twisted.internet.task import deferLater


async def pause(seconds: float) -> None:
    from twisted.internet import reactor

    await deferLater(reactor, seconds)
