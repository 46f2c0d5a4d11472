"""
One connection to Redis, kept open by us: L{RedisLink}, and its states.

Twisted's C{ClientService} kept these connections before, with txredisapi
doing the handshake (C{AUTH}, C{SELECT}) in its C{connectionMade}. A Redis
paused at the wrong moment broke that pair for good: the TCP connection is
accepted by the kernel, the handshake is never answered, txredisapi's reply
timeout aborts the connection, and the connection is lost while
C{ClientService} still waits for C{prepareConnection} in its C{Connecting}
state, which has no transition for a lost connection (C{NoTransition}); nor
does txredisapi ever fail the C{whenConnected} that C{prepareConnection} waits
for, so the service stayed in C{Connecting} for ever and the node never came
back (issue 23).

Here the handshake is ours and bounded by the reply timeout, a connection
only counts once Redis has answered on it, and the loss of a connection,
whenever it comes, is one event every state has an answer for.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

from twisted.application.internet import backoffPolicy
from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall

    from chatroom.cluster.engine import AnyURL


class LinkState(Enum):
    """
    Where a L{RedisLink} is; each state names what it waits for.
    """

    #: Not started, or stopped: waits for L{RedisLink.start}.
    IDLE = "idle"
    #: A TCP connection is being made (bounded by the endpoint's timeout).
    CONNECTING = "connecting"
    #: Connected: waits for Redis to answer the greeting (C{AUTH}, C{SELECT},
    #: then C{PING} or C{SUBSCRIBE}), within the reply timeout.
    GREETING = "greeting"
    #: Redis answered: L{RedisLink.current} is the connection.
    READY = "ready"
    #: Between two attempts (the retry policy's delay).
    WAITING = "waiting"
    #: Closing the connection for good: waits for it to be lost.
    STOPPING = "stopping"


class _Factory(Factory):
    """
    txredisapi protocols without password nor database: their
    C{connectionMade} then has nothing to wait for (the greeting is ours).
    """

    noisy = False

    def __init__(self, protocol: type, timeout: float) -> None:
        self.client = protocol
        self.timeout = timeout

    def buildProtocol(self, addr: Any) -> Any:
        p = self.client(charset="utf-8", replyTimeout=self.timeout, convertNumbers=False)
        p.factory = self
        return p


class RedisLink:
    """
    One connection to Redis, made again for ever until stopped.

    @ivar current: the connection while L{state} is L{LinkState.READY}, else
        L{None}.
    """

    log = Logger()

    def __init__(
        self,
        reactor: Any,
        url: AnyURL,
        protocol: type,
        timeout: float,
        greet: Callable[[Any], Deferred[Any]],
        changed: Callable[[], None],
        retryPolicy: Callable[[int], float] | None = None,
        locate: Callable[[], Deferred[tuple[str, int]]] | None = None,
    ) -> None:
        """
        @param protocol: the txredisapi protocol class of the connection.
        @param timeout: seconds Redis has to answer a command (the greeting
            as a whole, too) before the connection is abandoned.
        @param greet: called with a new connection once authenticated; Redis
            must have answered what it sends before the connection is ready.
        @param changed: called when L{current} comes or goes.
        @param retryPolicy: seconds to wait after so many failures in a row.
        @param locate: where Redis is, asked again before each connection
            (L{chatroom.cluster.sentinel}); by default, the URL's host and port.
        """
        self._reactor = reactor
        self._url = url
        self._locate = locate or (lambda: succeed((url.host, url.port)))
        self._factory = _Factory(protocol, timeout)
        self._timeout = timeout
        self._greet = greet
        self._changed = changed
        self._retryPolicy = retryPolicy or backoffPolicy(initialDelay=0.1, maxDelay=1.0)
        self.state = LinkState.IDLE
        self.current: Any = None
        # The connection being greeted, used, or closed; the attempt to
        # make one; the timer of the next attempt; consecutive failures.
        self._connection: Any = None
        self._attempt: Deferred[Any] | None = None
        self._retry: IDelayedCall | None = None
        self._failures = 0
        self._stopped: list[Deferred[None]] = []
        self._abort: IDelayedCall | None = None

    def start(self) -> None:
        if self.state is LinkState.IDLE:
            self._connect()

    def stop(self) -> Deferred[None]:
        """
        Stop trying, and close the connection if there is one.

        @return: fires once no connection is left.
        """
        state, self.state = self.state, LinkState.IDLE
        if state is LinkState.WAITING:
            assert self._retry is not None
            self._retry.cancel()
            self._retry = None
        elif state is LinkState.CONNECTING:
            assert self._attempt is not None
            self._attempt.cancel()  # L{_notConnected} sees IDLE
        elif state is not LinkState.IDLE:
            self.state = LinkState.STOPPING
            done: Deferred[None] = Deferred()
            self._stopped.append(done)
            if state is not LinkState.STOPPING:
                transport = self._connection.transport
                transport.loseConnection()
                # A Redis that does not read holds a closing connection open.
                self._abort = self._reactor.callLater(self._timeout, transport.abortConnection)
            return done
        return succeed(None)

    def _connect(self) -> None:
        self.state = LinkState.CONNECTING
        self._retry = None
        self._attempt = self._locate().addCallback(self._reach)
        self._attempt.addCallbacks(self._connected, self._notConnected)

    def _reach(self, where: tuple[str, int]) -> Deferred[Any]:
        host, port = where
        endpoint = TCP4ClientEndpoint(self._reactor, host, port, timeout=self._timeout)
        return endpoint.connect(self._factory)

    def _notConnected(self, failure: Failure) -> None:
        if self.state is LinkState.CONNECTING:  # else stopped meanwhile
            self._attempt = None
            self._wait()

    def _connected(self, p: Any) -> None:
        self._attempt = None
        if self.state is not LinkState.CONNECTING:
            p.transport.abortConnection()
            return
        self.state = LinkState.GREETING
        self._connection = p
        p.whenDisconnected().addCallback(self._lost)
        d = maybeDeferred(self._greeting, p).addTimeout(self._timeout, self._reactor)
        d.addCallbacks(self._greeted, self._notGreeted, callbackArgs=(p,), errbackArgs=(p,))

    def _greeting(self, p: Any) -> Deferred[Any]:
        d: Deferred[Any] = succeed(None)
        url = self._url
        if url.password is not None:
            d.addCallback(lambda _: p.auth(url.password, url.username))
        if url.db is not None:
            d.addCallback(lambda _: p.select(url.db))
        return d.addCallback(lambda _: self._greet(p))

    def _greeted(self, ignored: object, p: Any) -> None:
        if self.state is LinkState.GREETING and p is self._connection:
            self.state = LinkState.READY
            self._failures = 0
            self.current = p
            self._changed()

    def _notGreeted(self, failure: Failure, p: Any) -> None:
        if p is self._connection and self._failures == 0:
            self.log.warn(
                "cluster: Redis at {url} did not answer a new connection: {why}",
                url=self._url.redacted(),
                why=failure.getErrorMessage() or failure.type.__name__,
            )
        p.transport.abortConnection()  # and so, L{_lost}

    def _lost(self, p: Any) -> None:
        if p is not self._connection:
            return
        self._connection = None
        ready, self.current = self.current is not None, None
        if self.state is not LinkState.STOPPING:
            self._wait()
            if ready:
                self._changed()
            return
        self.state = LinkState.IDLE
        if self._abort is not None and self._abort.active():
            self._abort.cancel()
        self._abort = None
        if ready:
            self._changed()  # before whoever waits for the stop goes on
        self._stopped, waiting = [], self._stopped
        for d in waiting:
            d.callback(None)

    def _wait(self) -> None:
        self.state = LinkState.WAITING
        self._failures += 1
        self._retry = self._reactor.callLater(self._retryPolicy(self._failures), self._connect)
