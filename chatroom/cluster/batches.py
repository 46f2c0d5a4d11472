"""
Public messages across nodes, in batches: L{PublicBatches}.

Each public message its own script call made the sender's node cross Redis once per
message, and the other nodes flush every user's connection once per message (a C{send}
each), where a plain node gets a burst in one read and flushes each connection once for
hundreds of messages. So the public messages said on a node in one reactor turn go to Redis
together (one script call, one C{PUBLISH} of them all), and each node delivers such a batch
in one pass, through the same batched flush as its own senders' messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from chatroom import codec
from chatroom.cluster import scripts
from chatroom.store import Unavailable

if TYPE_CHECKING:
    from chatroom.cluster.liveness import Liveness
    from chatroom.history import Said
    from chatroom.pipeline import Session
    from chatroom.roster import Roster


class PublicBatches:
    """
    The public messages of one node, sent and received in batches.
    """

    def __init__(
        self,
        reactor: Any,
        node: str,
        nodeTimeout: float,
        liveness: Liveness,
        local: Roster,
        heard: Callable[[Said], None],
    ) -> None:
        """
        @param heard: called with each public message said on another node.
        """
        self.reactor = reactor
        self.node = node
        self.nodeTimeout = nodeTimeout
        self.liveness = liveness
        self.local = local
        self.heard = heard
        # Said in this reactor turn: published together at its end.
        self._batch: list[tuple[bytes, Session, Said, Deferred[int]]] = []

    def say(self, frame: bytes, sender: Session, said: Said) -> Deferred[int]:
        """
        A public message: published with the others said in this reactor turn, then
        delivered here; fires with the number of the whole room's other users.
        """
        if not self.liveness.up:
            return self.liveness.refused()
        answer: Deferred[int] = Deferred()
        if not self._batch:
            self.reactor.callLater(0, self._publish)
        self._batch.append((frame, sender, said, answer))
        return answer

    def _publish(self) -> None:
        batch, self._batch = self._batch, []
        if not self.liveness.up:
            d: Deferred[Any] = self.liveness.refused()
        else:
            message = json.dumps(["pms", self.node, [list(said) for _, _, said, _ in batch]])
            # Nodes that beat within half the node timeout (two beats) must be listening.
            window = int(self.nodeTimeout * 500)
            d = self.liveness.ask(scripts.PUBLIC, (), (message, window))

        def failed(failure: Failure) -> None:
            for _, _, _, waiting in batch:
                waiting.errback(failure)

        def published(present: int) -> None:
            if int(present) == -2:
                failed(Failure(Unavailable("a node is not listening to the room yet")))
                return
            for frame, sender, _, _ in batch:
                self.local.broadcast(frame, sender)
            count = max(0, int(present) - 1)
            for _, _, _, waiting in batch:
                waiting.callback(count)

        d.addCallbacks(published, failed)

    def received(self, batch: list[list[Any]]) -> None:
        """
        Public messages another node said in one reactor turn, delivered in one pass.
        """
        for _at, name, transport, text in batch:
            self.local.broadcast(codec.data("PM", name, transport, text), None)
        for at, name, transport, text in batch:
            self.heard((at, name, transport, text))
