"""
Whether Redis answers, and what a node does about it: a heartbeat tells
Redis the node lives (and learns whether Redis is there); when Redis goes,
the node says so once and refuses what needs it (L{Unavailable}, which the
room answers with C{ERR UNAVAILABLE}); when it is back, the node tells it
who is here before serving again. Every script a node runs goes through
here, so that none is run, or waited for, while Redis is away.

A part of L{chatroom.cluster.roster.ClusterRoster}, apart from the presence
it shares because coming and going is a job of its own with its own state.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred, fail
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import codec, names
from chatroom.cluster import scripts
from chatroom.cluster.engine import Engine, RedisURL
from chatroom.codec import Reason
from chatroom.roster import Roster
from chatroom.store import Unavailable


class Liveness:
    """
    The part of L{chatroom.cluster.roster.ClusterRoster} that follows Redis
    coming and going (its state is set up there).
    """

    log: Logger
    reactor: Any
    url: RedisURL
    node: str
    prefix: str
    nodeTimeout: float
    engine: Engine
    local: Roster
    up: bool
    _wasUp: bool | None
    _joined: bool
    _departed: bool
    _beating: Deferred[Any] | None

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
        if self._beating is not None or self._departed:
            return None
        if not self.engine.connected:
            self._down("cannot connect")
            return None
        d = self._run(scripts.BEAT, (), (int(self.nodeTimeout * 1000),))
        d.addCallback(self._beaten)
        d.addErrback(self._beatFailed)
        d.addBoth(self._beatDone)
        self._beating = d
        return None

    def _beatDone(self, result: object) -> None:
        self._beating = None

    def _beaten(self, state: str) -> Deferred[Any] | None:
        if self.up and state == "ok":
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
        d = self._run(scripts.REJOIN, (), (json.dumps(users), "1" if announce else "0"))

        def taken(result: str) -> None:
            for key in json.loads(result) or []:
                session = self.local.online.get(key)
                if session is not None:
                    self.log.warn("cluster: {name} was taken meanwhile by another node", name=key)
                    session.close(codec.command("BYE", Reason.REPLACED), Reason.REPLACED)

        return d.addCallback(taken)

    def _run(self, script: str, keys: Any, args: Any) -> Deferred[Any]:
        return self.engine.run(script, keys, (self.prefix, self.node, *args))

    def _ask(self, script: str, keys: Any, args: Any) -> Deferred[Any]:
        """
        L{_run} a script a client waits for: if Redis runs it only after we
        gave up waiting (it was paused), it does nothing.
        """
        deadline = int((self.reactor.seconds() + self.engine.timeout) * 1000)

        def inTime(result: Any) -> Any:
            if result == -1:
                raise Unavailable("Redis answered too late")
            return result

        return self._run(script, keys, (*args, deadline)).addCallback(inTime)

    def _fire(self, script: str, keys: Any, args: Any) -> None:
        """
        A change the others should know of, that no client waits for: if
        Redis is away it is lost, and the rejoin that follows sets it right.
        """
        if not self.up:
            return
        self._run(script, keys, args).addErrback(self._failedQuietly)

    def _failedQuietly(self, failure: Failure) -> None:
        if failure.check(Unavailable):
            self._down(failure.value)
        else:
            self.log.failure("cluster: updating Redis", failure)

    def _refused(self) -> Deferred[Any]:
        return fail(Unavailable("Redis is unavailable"))
