"""
The operator's HTTP site (C{--metrics}): C{/metrics}, C{/livez} and
C{/readyz}.

C{/livez} answers C{200} while the process serves at all. C{/readyz}
answers C{200} once every listener is up and the database (and Redis, on
several nodes) answers, and C{503} with a one-line reason otherwise, so a
load balancer or an orchestrator sends users only to a node that can
serve them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.web import http
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from chatroom.store import Store

#: Seconds the database has to answer C{/readyz}'s question.
READY_TIMEOUT = 3.0

#: A check: a reason the server is not ready, or L{None}.
Check = Callable[[], "Deferred[str | None]"]


def listenersUp(listeners: list[Any]) -> Check:
    """
    A check that every one of C{listeners} (services with a C{port}) listens.
    """

    def check() -> Deferred[str | None]:
        for listener in listeners:
            if listener.port is None:
                return succeed(f"not listening for {getattr(listener, 'label', 'UDP')}")
        return succeed(None)

    return check


def databaseAnswers(store: Store, clock: IReactorTime) -> Check:
    """
    A check that C{store} answers a query within L{READY_TIMEOUT} seconds.
    """

    def check() -> Deferred[str | None]:
        def answered(ignored: object) -> None:
            return None

        def failed(failure: Failure) -> str:
            return f"database {store.path} does not answer: {failure.getErrorMessage()}"

        d = store.answers()
        d.addTimeout(READY_TIMEOUT, clock)
        return d.addCallbacks(answered, failed)

    return check


def redisAnswers(connected: Callable[[], bool]) -> Check:
    """
    A check that the link to Redis is up (C{connected} says so).
    """

    def check() -> Deferred[str | None]:
        return succeed(None if connected() else "Redis is not connected")

    return check


class Livez(Resource):
    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return b"ok\n"


class Readyz(Resource):
    """
    The checks, in order; the first reason found is the answer.
    """

    isLeaf = True

    def __init__(self, checks: list[Check]) -> None:
        super().__init__()
        self.checks = checks

    def render_GET(self, request: Request) -> int:
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))
        self._first(0).addCallback(self._answer, request, gone)
        return NOT_DONE_YET

    def _first(self, index: int) -> Deferred[str | None]:
        if index == len(self.checks):
            return succeed(None)

        def then(reason: str | None) -> Deferred[str | None] | str:
            return self._first(index + 1) if reason is None else reason

        return self.checks[index]().addCallback(then)

    def _answer(self, reason: str | None, request: Request, gone: list[bool]) -> None:
        if gone:
            return
        if reason is not None:
            request.setResponseCode(503)
        request.write(f"{reason or 'ready'}\n".encode())
        request.finish()


class _QuietSite(Site):
    """
    A site that does not log each request: Prometheus asks every few seconds.
    """

    def log(self, request: http.Request) -> None:
        pass


def operatorSite(metrics: Resource, checks: list[Check]) -> Site:
    """
    The site of C{/metrics} (C{metrics}), C{/livez} and C{/readyz}.
    """
    root = Resource()
    root.putChild(b"metrics", metrics)
    root.putChild(b"livez", Livez())
    root.putChild(b"readyz", Readyz(checks))
    site = _QuietSite(root)
    site.noisy = False
    return site
