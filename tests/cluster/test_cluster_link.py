"""
L{chatroom.cluster.link.RedisLink} in this process, against a real C{redis-server} paused,
resumed, absent: the link's states, and no error logged on the way (a lost connection the
machine had no answer for was the bug of issue 23).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
import txredisapi  # type: ignore[import-untyped]
from twisted.internet.task import deferLater
from twisted.logger import ILogObserver, globalLogPublisher
from zope.interface import provider

from chatroom.bench import redisserver
from chatroom.cluster.engine import RedisURL
from chatroom.cluster.link import LinkState, RedisLink

#: The links' reply timeout here: short, so a paused Redis is given up on quickly.
TIMEOUT = 0.3


@pytest.fixture
def failures() -> Iterator[list[dict[str, Any]]]:
    """
    The failures logged while the test runs.
    """
    seen: list[dict[str, Any]] = []

    @provider(ILogObserver)
    def observe(event: dict[str, Any]) -> None:
        if "log_failure" in event:
            seen.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        yield seen
    finally:
        globalLogPublisher.removeObserver(observe)


def _sleep(seconds: float) -> Any:
    from twisted.internet import reactor

    return deferLater(reactor, seconds, lambda: None)


async def _until(link: RedisLink, state: LinkState, bound: float) -> float:
    waited = 0.0
    while link.state is not state:
        assert waited < bound, f"{link.state} after {bound:g} s, not {state}"
        await _sleep(0.02)
        waited += 0.02
    return waited


@pytest_twisted.ensureDeferred
async def test_a_paused_redis_is_retried_until_it_answers(
    redis: redisserver.RedisServer, failures: list[dict[str, Any]]
) -> None:
    """
    A link to a paused Redis (a database to select: a greeting to wait for) gives each new
    connection the reply timeout, then tries again; resumed, Redis answers and the link is
    ready within the timeout and a retry's delay; no failure is logged on the way.
    """
    from twisted.internet import reactor

    changes: list[object] = []
    link = RedisLink(
        reactor,
        RedisURL(redis.url + "/0"),
        txredisapi.RedisProtocol,
        TIMEOUT,
        lambda p: p.ping(),
        lambda: changes.append(link.current),
    )
    redis.pause()
    try:
        link.start()
        await _sleep(TIMEOUT * 6)
        assert link.current is None and changes == []
        assert link._failures >= 2  # attempts, each given up on
    finally:
        redis.resume()
    await _until(link, LinkState.READY, TIMEOUT + 2.5)
    assert changes == [link.current] and link.current is not None
    assert await link.current.ping() == "PONG"
    await link.stop()
    assert link.state is LinkState.IDLE and link.current is None
    assert changes[-1] is None
    assert failures == []


@pytest_twisted.ensureDeferred
async def test_stopped_in_each_state(
    redis: redisserver.RedisServer, failures: list[dict[str, Any]]
) -> None:
    """
    Stopped while waiting (nothing listens), while greeting a paused Redis, while ready: the
    link stops within the reply timeout, and tries no more.
    """
    from twisted.internet import reactor

    def make(url: str) -> RedisLink:
        return RedisLink(
            reactor,
            RedisURL(url),
            txredisapi.RedisProtocol,
            TIMEOUT,
            lambda p: p.ping(),
            lambda: None,
        )

    nowhere = make(f"redis://127.0.0.1:{redisserver._freePort()}")
    nowhere.start()
    await _until(nowhere, LinkState.WAITING, 2.0)
    await nowhere.stop()
    assert nowhere.state is LinkState.IDLE

    ready = make(redis.url)
    ready.start()
    await _until(ready, LinkState.READY, 2.0)
    redis.pause()
    try:
        greeting = make(redis.url)
        greeting.start()
        await _until(greeting, LinkState.GREETING, 2.0)
        for link in (greeting, ready):
            before = reactor.seconds()
            await link.stop()
            assert link.state is LinkState.IDLE
            assert reactor.seconds() - before <= TIMEOUT + 0.5
    finally:
        redis.resume()
    await _sleep(TIMEOUT * 3)
    for link in (nowhere, greeting, ready):
        assert link.state is LinkState.IDLE and link.current is None
    assert failures == []
