"""
Who is present on the other nodes, kept on each node: L{PresenceMirror}.

C{C WHO} and C{C DM} send the whole list of users. Read from Redis each time, that is a read
of the whole presence hash and its decoding for every ask: at ten thousand users, a few
milliseconds of Redis's one thread and of the node's, per ask. The nodes already tell each
other every coming and going on the room's channel (C{C JOIN} and C{C LEAVE} frames, and the
C{gone}, C{back}, C{here} and C{ghost} messages of the scripts), so each node keeps the list
itself from those, and reads the hash only once each time its subscription is made again
(nothing said while it was away reached it).

Loading is ordered by the subscription: what comes on the channel from the moment the
subscription is confirmed is kept aside until the hash has been read, then played over it.
Every event sets or removes one user, so playing again those the read already saw changes
nothing, and none is missed.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom import names


class MirrorState(Enum):
    """
    Whether the mirror can be read.
    """

    #: The subscription is down, or was never made: the mirror knows nothing.
    EMPTY = "empty"
    #: Subscribed; events are kept aside until the presence hash has been read.
    LOADING = "loading"
    #: Read and kept up to date: C{C WHO} is answered from here.
    LOADED = "loaded"


#: One change: (name, (node, transport)) to set, or (name, None) to remove.
Change = tuple[str, tuple[str, str] | None]


def sortKey(name: str, transport: str) -> tuple[str, str]:
    """
    The order of C{C USERS}: case-insensitively by name (L{chatroom.roster.Roster.present}).
    """
    return (names.caseless(name), f"{name}:{transport}")


class PresenceMirror:
    """
    The users present on every node but this one, by name.
    """

    def __init__(
        self,
        node: str,
        reactor: Any,
        read: Callable[[], Deferred[list[str]]],
        serving: Callable[[], bool],
        log: Logger,
    ) -> None:
        """
        @param read: reads the presence hash's values (the C{USERS} script).
        @param serving: whether Redis answers, so that it may be read.
        """
        self.node = node
        self._reactor = reactor
        self._read = read
        self._serving = serving
        self._log = log
        self._reading = False
        self.state = MirrorState.EMPTY
        self._users: dict[str, tuple[str, str]] = {}
        self._pending: list[Change] = []
        self._sorted: list[tuple[tuple[str, str], str]] | None = None

    def __len__(self) -> int:
        return len(self._users)

    def subscription(self, subscribed: bool) -> None:
        """
        The subscription to the room's channel was made (again), or lost.
        """
        if not subscribed:
            self.lost()
            return
        self.subscribed()
        self._reactor.callLater(0, self.fill)

    def fill(self) -> None:
        """
        Read the presence hash, if the mirror waits for it and Redis serves (else the
        heartbeat that finds Redis back calls again).
        """
        if self.state is not MirrorState.LOADING or self._reading or not self._serving():
            return
        self._reading = True

        def failed(failure: Failure) -> None:
            self._log.warn("cluster: presence not read: {why}", why=failure.value)

        def done(result: object) -> None:
            self._reading = False

        self._read().addCallbacks(self.load, failed).addBoth(done)

    def lost(self) -> None:
        """
        The subscription is gone: what is said meanwhile is not heard.
        """
        self.state = MirrorState.EMPTY
        self._users.clear()
        self._pending.clear()
        self._sorted = None

    def subscribed(self) -> None:
        """
        The subscription is made again: keep what comes until L{load}.
        """
        self.lost()
        self.state = MirrorState.LOADING

    def load(self, values: Iterable[str]) -> None:
        """
        The presence hash's values (C{[node, name, transport]} JSON), read after L{subscribed}.
        """
        if self.state is not MirrorState.LOADING:
            return  # lost again meanwhile: this read may have missed something
        self._users = {}
        for value in values:
            node, name, transport = json.loads(value)
            if node != self.node:
                self._users[name] = (node, transport)
        pending, self._pending = self._pending, []
        self.state = MirrorState.LOADED
        self.apply(pending)

    def apply(self, changes: Iterable[Change]) -> None:
        """
        Changes another node told of, in the order they came.
        """
        if self.state is MirrorState.EMPTY:
            return
        if self.state is MirrorState.LOADING:
            self._pending.extend(changes)
            return
        for name, value in changes:
            if value is None:
                if self._users.pop(name, None) is not None:
                    self._sorted = None
            elif value[0] != self.node:
                self._users[name] = value
                self._sorted = None

    def entries(self, local: Iterable[tuple[str, str]]) -> list[str]:
        """
        C{name:transport} of everyone: the mirror's users and C{local} (this node's, as
        C{(name, transport)}), in the order of C{C USERS}.
        """
        if self._sorted is None:
            self._sorted = sorted(
                (sortKey(name, transport), f"{name}:{transport}")
                for name, (_, transport) in self._users.items()
            )
        here = sorted((sortKey(n, t), f"{n}:{t}") for n, t in local)
        return [entry for _, entry in heapq.merge(self._sorted, here)]


def changesOf(message: list[object], node: str) -> list[Change]:
    """
    The presence changes in a message of the room's channel (L{chatroom.cluster.roster}).
    """
    kind, origin = message[0], message[1]
    if kind == "frame" and isinstance(message[2], str):
        words = message[2].split(" ")
        if words[:2] == ["C", "JOIN"] and len(words) >= 4:
            return [(words[2], (str(origin), words[3]))]
        if words[:2] == ["C", "LEAVE"] and len(words) >= 3:
            return [(words[2], None)]
    elif kind == "gone":
        return [(str(name), None) for name, _ in message[3]]  # type: ignore[attr-defined]
    elif kind in ("back", "here"):
        return [(str(n), (str(origin), str(t))) for n, t in message[2]]  # type: ignore[attr-defined]
    elif kind == "ghost":
        return [(str(message[4]), None)]
    return []
