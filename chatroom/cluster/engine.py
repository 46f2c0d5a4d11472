"""
Two connections to Redis, each kept open by a L{RedisLink}: one for
commands (the scripts of L{chatroom.cluster.scripts}), one for subscriptions
(Redis gives a subscribed connection to nothing else).

The client is txredisapi's protocol, Twisted-native: replies are Deferreds on
the reactor thread, with a reply timeout that aborts a connection to a Redis
that stopped answering. Its own pool and reconnection are not used: a
command while no connection is up must fail at once (L{Unavailable}), not
wait in a queue, and a paused Redis must end in a disconnection we handle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import txredisapi  # type: ignore[import-untyped]
from twisted.internet.defer import Deferred, DeferredList, fail
from twisted.python.failure import Failure

from chatroom.cluster.link import RedisLink
from chatroom.cluster.sentinel import Sentinels, SentinelURL, role
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


#: Where Redis is: one server, or the master a set of sentinels watches.
AnyURL = RedisURL | SentinelURL


def parseURL(url: str) -> AnyURL:
    """
    C{--redis}: C{redis://...} or C{sentinel://...}; L{ValueError} says what is wrong.
    """
    if url.startswith("sentinel:"):
        return SentinelURL(url)
    return RedisURL(url)


class _Subscriber(txredisapi.SubscriberProtocol):
    onMessage: Callable[[str, str], None]

    def messageReceived(self, pattern: Any, channel: str, message: str) -> None:
        self.onMessage(channel, message)


def _ping(p: Any) -> Deferred[Any]:
    # A connection for commands counts once Redis answered on it: a paused
    # Redis whose kernel accepts connections gives none.
    d: Deferred[Any] = p.ping()
    return d


class Engine:
    """
    The command and subscription connections of one node.

    @ivar onMessage: called with each message of a subscribed channel.
    @ivar onChange: called when either connection comes or goes.
    """

    def __init__(
        self,
        reactor: Any,
        url: AnyURL,
        channels: Sequence[str],
        onMessage: Callable[[str, str], None],
        onChange: Callable[[], None],
        timeout: float = REPLY_TIMEOUT,
        onSubscription: Callable[[bool], None] = lambda subscribed: None,
    ) -> None:
        """
        @param onSubscription: called with C{True} once Redis confirmed the
            subscriptions (before the first message on them), with C{False}
            when the subscription connection is lost.
        """
        self.channels = list(channels)
        self.onMessage = onMessage
        self.onChange = onChange
        self.onSubscription = onSubscription
        self.timeout = timeout
        locate = None
        greetCommands: Callable[[Any], Deferred[Any]] = _ping
        greetSubscriber: Callable[[Any], Deferred[Any]] = self._subscribe
        if isinstance(url, SentinelURL):
            # Asked of the sentinels before each connection; used only once it is the master.
            locate = Sentinels(reactor, url, timeout).locate
            greetCommands = _afterRole(_ping)
            greetSubscriber = _afterRole(self._subscribe)
        self.commands = RedisLink(
            reactor, url, txredisapi.RedisProtocol, timeout, greetCommands, onChange, locate=locate
        )
        self.subscriptions = RedisLink(
            reactor,
            url,
            _Subscriber,
            timeout,
            greetSubscriber,
            self._subscriptionChanged,
            locate=locate,
        )

    def start(self) -> None:
        self.commands.start()
        self.subscriptions.start()

    def stop(self) -> Deferred[Any]:
        return DeferredList([self.commands.stop(), self.subscriptions.stop()])

    @property
    def connected(self) -> bool:
        return self.commands.current is not None and self.subscriptions.current is not None

    def _subscribe(self, p: Any) -> Deferred[Any]:
        # Ready once Redis confirmed the subscriptions (the link's greeting).
        p.onMessage = self.onMessage
        d: Deferred[Any] = p.subscribe(self.channels)

        def confirmed(result: Any) -> Any:
            self.onSubscription(True)
            return result

        return d.addCallback(confirmed)

    def _subscriptionChanged(self) -> None:
        if self.subscriptions.current is None:
            self.onSubscription(False)
        self.onChange()

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


def _afterRole(greet: Callable[[Any], Deferred[Any]]) -> Callable[[Any], Deferred[Any]]:
    def greeting(p: Any) -> Deferred[Any]:
        return role(p).addCallback(lambda _: greet(p))

    return greeting


def _unavailable(failure: Failure) -> Failure:
    if failure.check(txredisapi.ConnectionError, txredisapi.TimeoutError):
        return Failure(Unavailable(f"Redis: {failure.value}"))
    return failure
