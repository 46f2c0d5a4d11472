"""
Two connections to Redis, each kept open by a L{ClientService}: one for
commands (the scripts of L{chatroom.cluster.scripts}), one for subscriptions
(Redis gives a subscribed connection to nothing else).

The client is txredisapi's protocol, Twisted-native: replies are Deferreds on
the reactor thread, with a reply timeout that aborts a connection to a Redis
that stopped answering. Its own pool is not used: a command while no
connection is up must fail at once (L{Unavailable}), not wait in a queue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import txredisapi  # type: ignore[import-untyped]
from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet.defer import Deferred, fail
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom.store import Unavailable

#: Seconds Redis has to answer a command before its connection is abandoned.
REPLY_TIMEOUT = 2.0


class RedisURL:
    """
    C{redis://[[user]:password@]host[:port][/db]}, parsed.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError("give a redis://host:port URL")
        if not parts.hostname:
            raise ValueError("the URL names no host")
        self.host = parts.hostname
        self.port = parts.port or 6379
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        path = parts.path.strip("/")
        if path and not path.isdigit():
            raise ValueError(f"the database must be a number, not {path!r}")
        self.db = int(path) if path else None

    def redacted(self) -> str:
        """
        The URL without its password, for the console.
        """
        return f"redis://{self.host}:{self.port}" + (f"/{self.db}" if self.db is not None else "")


class _Subscriber(txredisapi.SubscriberProtocol):
    onMessage: Callable[[str, str], None]

    def messageReceived(self, pattern: Any, channel: str, message: str) -> None:
        self.onMessage(channel, message)


class _Factory(Factory):
    noisy = False

    def __init__(self, url: RedisURL, protocol: type, timeout: float | None) -> None:
        self.url = url
        self.client = protocol
        self.timeout = timeout

    def buildProtocol(self, addr: Any) -> Any:
        p = self.client(
            charset="utf-8",
            replyTimeout=self.timeout,
            password=self.url.password,
            dbid=self.url.db,
            convertNumbers=False,
            username=self.url.username,
        )
        p.factory = self
        return p


class Link:
    """
    One connection to Redis, reconnected for ever; L{current} is the
    connection while it is up and ready.
    """

    log = Logger()

    def __init__(
        self,
        reactor: Any,
        url: RedisURL,
        protocol: type,
        timeout: float | None,
        changed: Callable[[], None],
    ) -> None:
        endpoint = TCP4ClientEndpoint(reactor, url.host, url.port, timeout=timeout or 5)
        self._service = ClientService(
            endpoint,
            _Factory(url, protocol, timeout),
            retryPolicy=backoffPolicy(initialDelay=0.1, maxDelay=1.0),
            prepareConnection=self._ready,
        )
        self._changed = changed
        self.current: Any = None

    def _ready(self, p: Any) -> Deferred[Any]:
        # twisted waits for this before whenConnected; so do we.
        def up(p: Any) -> Any:
            self.current = p
            p.whenDisconnected().addCallback(self._lost)
            self._changed()
            return p

        return p.whenConnected().addCallback(up)

    def _lost(self, p: Any) -> None:
        if self.current is p:
            self.current = None
            self._changed()

    def start(self) -> None:
        self._service.startService()

    def stop(self) -> Deferred[None]:
        return self._service.stopService()


class Engine:
    """
    The command and subscription connections of one node.

    @ivar onMessage: called with each message of a subscribed channel.
    @ivar onChange: called when either connection comes or goes.
    """

    def __init__(
        self,
        reactor: Any,
        url: RedisURL,
        channels: Sequence[str],
        onMessage: Callable[[str, str], None],
        onChange: Callable[[], None],
        timeout: float = REPLY_TIMEOUT,
    ) -> None:
        self.channels = list(channels)
        self.onMessage = onMessage
        self.onChange = onChange
        self.subscribed = False
        self.timeout = timeout
        self.commands = Link(reactor, url, txredisapi.RedisProtocol, timeout, onChange)
        self.subscriptions = Link(reactor, url, _Subscriber, None, self._subscriberChanged)

    def start(self) -> None:
        self.commands.start()
        self.subscriptions.start()

    def stop(self) -> Deferred[Any]:
        from twisted.internet.defer import DeferredList

        return DeferredList([self.commands.stop(), self.subscriptions.stop()])

    @property
    def connected(self) -> bool:
        return self.commands.current is not None and self.subscribed

    def _subscriberChanged(self) -> None:
        p = self.subscriptions.current
        self.subscribed = False
        if p is None:
            self.onChange()
            return
        p.onMessage = self.onMessage

        def done(ignored: object) -> None:
            if self.subscriptions.current is p:
                self.subscribed = True
                self.onChange()

        def failed(failure: Failure) -> None:
            p.transport.abortConnection()  # and so, again

        p.subscribe(self.channels).addCallbacks(done, failed)

    def run(self, script: str, keys: Sequence[str] = (), args: Sequence[Any] = ()) -> Deferred[Any]:
        """
        Run one script; fails with L{Unavailable} at once if the command
        connection is down, or when Redis fails to answer in time.
        """
        p = self.commands.current
        if p is None:
            return fail(Unavailable("Redis is not connected"))
        try:
            d = p.eval(script, list(keys), [str(a) for a in args])
        except txredisapi.RedisError as e:
            return fail(Unavailable(f"Redis: {e}"))
        return d.addErrback(_unavailable)

    def publish(self, channel: str, message: str) -> Deferred[Any]:
        p = self.commands.current
        if p is None:
            return fail(Unavailable("Redis is not connected"))
        return p.publish(channel, message).addErrback(_unavailable)


def _unavailable(failure: Failure) -> Failure:
    if failure.check(txredisapi.ConnectionError, txredisapi.TimeoutError):
        return Failure(Unavailable(f"Redis: {failure.value}"))
    return failure
