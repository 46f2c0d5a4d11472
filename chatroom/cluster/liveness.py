"""
Whether Redis answers, and what a node does about it: a heartbeat tells
Redis the node lives (and learns whether Redis is there); when Redis goes,
the node says so once and refuses what needs it (L{Unavailable}, which the
room answers with C{ERR UNAVAILABLE}); when it is back, the node tells it
who is here before serving again. Every script a node runs goes through
here, so that none is run, or waited for, while Redis is away.

L{chatroom.cluster.roster.ClusterRoster} makes one and owns it, apart from
the presence it shares because coming and going is a job of its own with
its own state; the roster reaches Redis only through it (L{Liveness.run},
L{Liveness.ask}, L{Liveness.fire}, L{Liveness.publish}).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import codec, names
from chatroom.cluster import scripts
from chatroom.cluster.engine import REPLY_TIMEOUT, AnyURL, Engine
from chatroom.codec import Reason
from chatroom.roster import Roster
from chatroom.store import Unavailable


class Liveness:
    """
    One node's link to Redis, and whether Redis answers it.

    @ivar engine: the connections to Redis, made here.
    @ivar up: whether Redis answers: without it, nothing that needs Redis
        is done, and the room answers C{ERR UNAVAILABLE}.
    @ivar departed: the node said goodbye (L{depart}): it tells Redis
        nothing more.
    """

    def __init__(
        self,
        reactor: Any,
        url: AnyURL,
        node: str,
        prefix: str,
        nodeTimeout: float,
        local: Roster,
        channels: Sequence[str],
        onMessage: Callable[[str, str], None],
        log: Logger,
        onSubscription: Callable[[bool], None] = lambda subscribed: None,
    ) -> None:
        """
        @param local: the node's own sessions, told to Redis again when it
            is back.
        @param channels: what to subscribe to; C{onMessage} gets what comes
            on them.
        @param log: the roster's, so the console names the cluster once.
        """
        self.reactor = reactor
        self.url = url
        self.node = node
        self.prefix = prefix
        self.nodeTimeout = nodeTimeout
        self.local = local
        self.log = log
        self.up = False
        self.departed = False
        self._wasUp: bool | None = None
        self._joined = False
        timeout = min(REPLY_TIMEOUT, nodeTimeout / 4)
        self.engine = Engine(
            reactor, url, channels, onMessage, self._changed, timeout, onSubscription
        )
        #: Called after each heartbeat Redis answered while the node serves.
        self.beaten: Callable[[], None] = lambda: None
        self._beat = LoopingCall(self._heartbeat)
        self._beat.clock = reactor
        self._beating: Deferred[Any] | None = None

    def start(self) -> None:
        self.engine.start()
        self._beat.start(self.nodeTimeout / 4, now=False)

    def depart(self) -> Deferred[Any]:
        """
        Stop beating, run the goodbye script if Redis answers, and leave it.
        """
        self.departed = True
        if self._beat.running:
            self._beat.stop()
        d = self.run(scripts.DEPART, (), ()) if self.up else succeed(None)
        d.addErrback(lambda f: self.log.warn("cluster: could not say goodbye: {why}", why=f.value))
        d.addBoth(lambda _: self.engine.stop())
        return d

    def _changed(self) -> None:
        if not self.engine.connected:
            if self.up:
                self._down("connection lost")
        elif not self.up and self._beating is None:
            self._heartbeat()

    def _down(self, why: object) -> None:
        self.up = False
        if self._wasUp is not False:
            self._wasUp = False
            self.log.warn(
                "cluster: Redis at {url} unavailable ({why}); logins and messages get"
                " ERR UNAVAILABLE until it is back",
                url=self.url.redacted(),
                why=why,
            )

    def _heartbeat(self) -> Deferred[Any] | None:
        if self._beating is not None or self.departed:
            return None
        if not self.engine.connected:
            self._down("cannot connect")
            return None
        d = self.run(scripts.BEAT, (), (int(self.nodeTimeout * 1000),))
        d.addCallback(self._beaten)
        d.addErrback(self._beatFailed)
        d.addBoth(self._beatDone)
        self._beating = d
        return None

    def _beatDone(self, result: object) -> None:
        self._beating = None

    def _beaten(self, state: str) -> Deferred[Any] | None:
        if self.up and state == "ok":
            self.beaten()
            return None
        # Back (or new): Redis must know who is here before anything else.
        return self._rejoin(announce=state == "reaped").addCallback(self._rejoined, state)

    def _rejoined(self, ignored: object, state: str) -> None:
        self.up = True
        if not self._joined:
            self._joined = True
            self.log.info(
                "cluster: node {node} joined through Redis at {url}",
                node=self.node,
                url=self.url.redacted(),
            )
        elif self._wasUp is False:
            self.log.info(
                "cluster: Redis is back ({state}); {count} users here announced again",
                state=state,
                count=len(self.local.online),
            )
        self._wasUp = True
        self.beaten()

    def _beatFailed(self, failure: Failure) -> None:
        if failure.check(Unavailable):
            self._down(failure.value)
            return
        self.log.failure("cluster: heartbeat", failure)
        self._down(failure.value)

    def _rejoin(self, announce: bool) -> Deferred[Any]:
        users = [
            [key, names.shownKey(s.name or ""), s.name, s.channel.transportName]
            for key, s in self.local.online.items()
        ]
        d = self.run(scripts.REJOIN, (), (json.dumps(users), "1" if announce else "0"))

        def taken(result: str) -> None:
            for key in json.loads(result) or []:
                session = self.local.online.get(key)
                if session is not None:
                    self.log.warn("cluster: {name} was taken meanwhile by another node", name=key)
                    session.close(codec.command("BYE", Reason.REPLACED), Reason.REPLACED)

        return d.addCallback(taken)

    def run(self, script: str, keys: Any, args: Any) -> Deferred[Any]:
        return self.engine.run(script, keys, (self.prefix, self.node, *args))

    def ask(self, script: str, keys: Any, args: Any) -> Deferred[Any]:
        """
        L{run} a script a client waits for: if Redis runs it only after we
        gave up waiting (it was paused), it does nothing.
        """
        deadline = int((self.reactor.seconds() + self.engine.timeout) * 1000)

        def inTime(result: Any) -> Any:
            if result == -1:
                raise Unavailable("Redis answered too late")
            return result

        return self.run(script, keys, (*args, deadline)).addCallback(inTime)

    def fire(self, script: str, keys: Any, args: Any) -> None:
        """
        A change the others should know of, that no client waits for: if
        Redis is away it is lost, and the rejoin that follows sets it right.
        """
        if not self.up:
            return
        self.run(script, keys, args).addErrback(self.failedQuietly)

    def failedQuietly(self, failure: Failure) -> None:
        if failure.check(Unavailable):
            self._down(failure.value)
        else:
            self.log.failure("cluster: updating Redis", failure)

    def publish(self, channel: str, message: str) -> None:
        """
        Tell the nodes on C{channel}; nobody waits for it.
        """
        self.engine.publish(channel, message).addErrback(self.failedQuietly)

    def refused(self) -> Deferred[Any]:
        """
        What is asked of Redis while it is away.
        """
        return fail(Unavailable("Redis is unavailable"))
