"""
Presence shared by several nodes through Redis: L{ClusterRoster}, the other
L{IRoster}.

Each node keeps its own sessions in an in-process L{Roster} (delivery to them
costs what it costs on one node) and tells Redis what the others must know:
which names are held, who is present, what was said. Every change is one Lua
script, so a name is taken by one node or the other, never both; a public
message crosses Redis once, on the room's channel, and each node hands it to
its own sessions; a direct message goes to the channel of the target's node,
which answers once its session has it.

While Redis is away the node says so once, refuses what needs Redis with
L{Unavailable} (the room answers C{ERR UNAVAILABLE}), keeps its sessions, and
when Redis answers again, tells it who is here before serving again
(L{chatroom.cluster.liveness}).
"""

from __future__ import annotations

import itertools
import json
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom import codec, names
from chatroom.cluster import NODE_TIMEOUT, scripts
from chatroom.cluster.batches import PublicBatches
from chatroom.cluster.engine import AnyURL
from chatroom.cluster.liveness import Liveness
from chatroom.cluster.mirror import MirrorState, PresenceMirror, changesOf
from chatroom.codec import Reason
from chatroom.history import Said
from chatroom.roster import IRoster, Roster

if TYPE_CHECKING:
    from chatroom.pipeline import Session

#: Key and channel prefix in Redis.
PREFIX = "chatroom:"


def nodeName() -> str:
    """
    A name for this node, new at each start: host, process, and a random part.
    """
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"


@implementer(IRoster)
class ClusterRoster:
    """
    The room's presence, shared with the other nodes of the cluster.

    @ivar local: this node's own sessions.
    @ivar heard: called with each public message said on another node (the
        room's history remembers it).
    @ivar liveness: the link to Redis, and whether it answers: without it,
        nothing that needs Redis is done, and the room answers
        C{ERR UNAVAILABLE}.
    """

    log = Logger()

    def __init__(
        self,
        reactor: Any,
        url: AnyURL,
        nodeTimeout: float = NODE_TIMEOUT,
        node: str | None = None,
        prefix: str = PREFIX,
    ) -> None:
        self.reactor = reactor
        self.url = url
        self.node = node or nodeName()
        self.prefix = prefix
        self.nodeTimeout = nodeTimeout
        self.local = Roster()
        self.heard: Callable[[Said], None] = lambda said: None
        self._ids = itertools.count()
        self._replies: dict[str, Deferred[str | None]] = {}
        # GHOST logins (by session) that may replace a session of another
        # node: its node and name, as Redis showed them at LOGIN.
        self._ghosts: dict[Session, tuple[str, str]] = {}
        # Sessions of ours replaced from another node: their LEAVE went to
        # every node from Redis already.
        self._replaced: set[Session] = set()
        self._roomChannel = prefix + "room"
        #: Who is on the other nodes, kept from what they publish: C{C WHO} reads it.
        self.mirror = PresenceMirror(
            self.node,
            reactor,
            lambda: self.liveness.run(scripts.USERS, (), ()),
            lambda: self.liveness.up,
            self.log,
        )
        self._nodeChannel = f"{prefix}node:{self.node}"
        self.liveness = Liveness(
            reactor,
            url,
            self.node,
            prefix,
            nodeTimeout,
            self.local,
            [self._roomChannel, self._nodeChannel],
            self._message,
            self.log,
            self.mirror.subscription,
        )
        self.liveness.beaten = self.mirror.fill
        self.batches = PublicBatches(
            reactor, self.node, nodeTimeout, self.liveness, self.local, lambda s: self.heard(s)
        )

    # Starting and stopping (L{ClusterService}).

    def start(self) -> None:
        self.liveness.start()

    def depart(self) -> Deferred[Any]:
        """
        Stopping cleanly: the node's users leave the room for the others
        (C{LEAVE … SHUTDOWN}), its names are free, and Redis is left.
        """
        return self.liveness.depart()

    # IRoster.

    def holder(self, name: str, asking: Session | None) -> Session | None:
        return self.local.holder(name, asking)

    def _keys(self, name: str, lookalikeKey: str) -> tuple[str, str]:
        return (
            f"{self.prefix}name:{lookalikeKey}",
            f"{self.prefix}shown:{names.shownKey(name)}",
        )

    def reserve(
        self, session: Session, name: str, lookalikeKey: str, ghost: bool = False
    ) -> Deferred[str | None] | None:
        # Present here under that key: a GHOST of a session of ours, which
        # the login found it may replace; the node holds the name already.
        ours = self.local.find(lookalikeKey) is not None
        self.local.reserve(session, name, lookalikeKey)
        if ours:
            return None
        if not self.liveness.up:
            self.local.release(session)
            return self.liveness.refused()
        args = (name, lookalikeKey, "1" if ghost else "0")
        d = self.liveness.ask(scripts.RESERVE, self._keys(name, lookalikeKey), args)

        def answered(value: str | list[str] | None) -> str | None:
            if value is None:
                return None
            if isinstance(value, list):
                # Present on another node; replaceable if the same account.
                node, present = value
                if names.caseless(present) == names.caseless(name):
                    self._ghosts[session] = (node, present)
                    return None
                value = f"{node}\t{name}"
            self.local.release(session)
            return value.partition("\t")[2]

        def failed(failure: Failure) -> Failure:
            self.local.release(session)
            return failure

        return d.addCallbacks(answered, failed)

    def _freeable(self, name: str, lookalikeKey: str) -> list[str]:
        """
        The keys of C{name} that no session here holds any more.
        """
        redisKey, shownKey = self._keys(name, lookalikeKey)
        free = []
        if lookalikeKey not in self.local.online and lookalikeKey not in self.local.reserved:
            free.append(redisKey)
        if names.shownKey(name) not in self.local.shown:
            free.append(shownKey)
        return free

    def claim(self, session: Session, name: str) -> Deferred[str | None] | None:
        ghost = self._ghosts.pop(session, None)
        if ghost is None:
            return None
        if not self.liveness.up:
            return self.liveness.refused()
        node, old = ghost
        reserved = self.local.reservation(session)
        assert reserved is not None  # held from LOGIN until the login ends
        lookalikeKey = reserved[1]
        keys = (
            f"{self.prefix}name:{lookalikeKey}",
            f"{self.prefix}shown:{names.shownKey(name)}",
            f"{self.prefix}shown:{names.shownKey(old)}",
        )
        d = self.liveness.ask(scripts.TAKEOVER, keys, (name, lookalikeKey, old))

        def answered(value: str | list[str] | None) -> str | None:
            if isinstance(value, list):
                # Ours first: the replaced session's node and the others
                # hear it from Redis, in the room's order.
                self.log.info("cluster: {name} on {node} replaced from here", name=old, node=node)
                self.local.broadcast(codec.command("LEAVE", *value, Reason.REPLACED), None)
                return None
            return None if value is None else value.partition("\t")[2]

        return d.addCallback(answered)

    def release(self, session: Session) -> None:
        self._ghosts.pop(session, None)
        held = self.local.reservation(session)
        self.local.release(session)
        if held is not None and not self.liveness.departed:
            self.liveness.fire(scripts.FREE, self._freeable(*held), ())

    def enter(self, session: Session) -> None:
        self.local.enter(session)
        if self.liveness.departed:
            return
        name, lookalikeKey = session.name, session.lookalikeKey
        assert name is not None and lookalikeKey is not None  # named on entering
        self.liveness.fire(
            scripts.ENTER,
            self._keys(name, lookalikeKey),
            (name, lookalikeKey, session.channel.transportName),
        )

    def leave(self, session: Session) -> None:
        self.local.leave(session)
        if self.liveness.departed:
            return
        name, lookalikeKey = session.name, session.lookalikeKey
        assert name is not None and lookalikeKey is not None  # present, so named
        self.liveness.fire(scripts.LEAVE, self._freeable(name, lookalikeKey), (lookalikeKey,))

    def find(self, lookalikeKey: str) -> Session | None:
        return self.local.find(lookalikeKey)

    def present(self) -> list[Session]:
        return self.local.present()

    def entries(self) -> list[str] | Deferred[list[str]]:
        if not self.liveness.up:
            return self.liveness.refused()
        if self.mirror.state is MirrorState.LOADED:
            local = ((s.name or "", s.channel.transportName) for s in self.local.online.values())
            return self.mirror.entries(local)

        def listed(values: list[str]) -> list[str]:
            people = [json.loads(v) for v in values]
            people.sort(key=lambda e: (names.caseless(e[1]), f"{e[1]}:{e[2]}"))
            return [f"{name}:{transport}" for _, name, transport in people]

        return self.liveness.run(scripts.USERS, (), ()).addCallback(listed)

    def broadcast(self, frame: bytes, sender: Session | None) -> int:
        if sender is not None and sender in self._replaced:
            return 0  # its LEAVE … REPLACED came from Redis to every node
        count = self.local.broadcast(frame, sender)
        if not self.liveness.departed:
            message = json.dumps(["frame", self.node, frame.decode("utf-8")])
            if self.liveness.up:
                self.liveness.publish(self._roomChannel, message)
        return count

    def say(self, frame: bytes, sender: Session, said: Said) -> Deferred[int]:
        """
        A public message: published with the others said in this reactor turn
        (L{PublicBatches}), then delivered here; the count is the whole room's.
        """
        return self.batches.say(frame, sender, said)

    def elsewhere(self, lookalikeKey: str, frame: bytes) -> Deferred[str | None]:
        """
        Hand a direct message to C{lookalikeKey} on the node it is on; fires with
        their name once that node gave it to their session, or L{None} if
        they are nowhere (or their node died before it answered: the room
        keeps the message for them then).
        """
        if not self.liveness.up:
            return self.liveness.refused()
        ident = f"{self.node}/{next(self._ids)}"
        message = json.dumps(["dm", ident, self.node, lookalikeKey, frame.decode("utf-8")])
        waiting: Deferred[str | None] = Deferred()
        self._replies[ident] = waiting

        def sent(result: list[Any] | None) -> Any:
            if result is None or int(result[1]) == 0:
                self._replies.pop(ident, None)
                return None  # not present, or its node is gone
            waiting.addTimeout(self.nodeTimeout, self.reactor, onTimeoutCancel=lambda *_: None)
            return waiting

        def failed(failure: Failure) -> Failure:
            self._replies.pop(ident, None)
            return failure

        def cleanup(result: Any) -> Any:
            self._replies.pop(ident, None)
            return result

        d: Deferred[Any] = self.liveness.ask(scripts.DIRECT, (), (lookalikeKey, message))
        d.addCallbacks(sent, failed)
        return d.addBoth(cleanup)

    def expel(self, lookalikeKey: str, name: str, reason: str) -> None:
        """
        End the session of C{name} here, or have its node end it: every node hears it on the
        room's channel, after the C{C MOD} broadcast before it.
        """
        self.local.expel(lookalikeKey, name, reason)
        if self.liveness.up and not self.liveness.departed:
            message = json.dumps(["expel", self.node, lookalikeKey, name, reason])
            self.liveness.publish(self._roomChannel, message)

    # Messages from Redis.

    def _message(self, channel: str, raw: str) -> None:
        try:
            message = json.loads(raw)
            kind = message[0]
            if message[1] != self.node and kind in ("frame", "gone", "back", "here", "ghost"):
                self.mirror.apply(changesOf(message, self.node))
            if kind == "frame" and message[1] != self.node:
                self.local.broadcast(message[2].encode("utf-8"), None)
            elif kind == "pms" and message[1] != self.node:
                self.batches.received(message[2])
            elif kind == "gone" and message[1] != self.node:
                for name, transport in message[3]:
                    self.local.broadcast(codec.command("LEAVE", name, transport, message[2]), None)
            elif kind == "back" and message[1] != self.node:
                for name, transport in message[2]:
                    self.local.broadcast(codec.command("JOIN", name, transport), None)
            elif kind == "expel" and message[1] != self.node:
                self.local.expel(*message[2:5])
            elif kind == "ghost":
                self._ghosted(*message[1:6])
            elif kind == "dm":
                self._directHere(*message[1:5])
            elif kind == "dmok":
                waiting = self._replies.pop(message[1], None)
                if waiting is not None and not waiting.called:
                    waiting.callback(message[2])
        except Exception:  # noqa: BLE001 -- one bad message must not stop the others
            self.log.failure("cluster: message on {channel}", channel=channel)

    def _ghosted(self, old: str, new: str, lookalikeKey: str, name: str, transport: str) -> None:
        """
        A C{GHOST} login on node C{new} replaced C{name}, present on node
        C{old}: if that is us, its session ends; everyone but the users of
        C{new} (told already) hear it left.
        """
        if old == self.node:
            session = self.local.find(lookalikeKey)
            if session is not None and session.name == name:
                self._replaced.add(session)
                try:
                    session.close(codec.command("BYE", Reason.REPLACED), Reason.REPLACED)
                finally:
                    self._replaced.discard(session)
        if new != self.node:
            self.local.broadcast(codec.command("LEAVE", name, transport, Reason.REPLACED), None)

    def _directHere(self, ident: str, origin: str, lookalikeKey: str, frame: str) -> None:
        target = self.local.find(lookalikeKey)
        shown = None
        if target is not None:
            target.send(frame.encode("utf-8"))
            shown = target.name
        reply = json.dumps(["dmok", ident, shown])
        self.liveness.publish(f"{self.prefix}node:{origin}", reply)


class ClusterService(Service):
    """
    Joins the cluster when the server starts; leaves it, cleanly, when it stops.
    """

    def __init__(self, roster: ClusterRoster) -> None:
        self.roster = roster

    def startService(self) -> None:
        super().startService()
        self.roster.start()

    def stopService(self) -> Deferred[Any]:
        super().stopService()
        return self.roster.depart()
