"""
Replies that keep their order while public messages are on their way through Redis.

On several nodes a public message is said once Redis has it, a round trip later. Holding a
sender's next frames back for that round trip would make each message one Redis call, however
fast the sender pipelines: the node could never gather a sender's messages into one C{PUBLISH}
(L{chatroom.cluster.roster.ClusterRoster.say}). So a session's next C{C PM} and its text go on
at once, and what is answered to them waits here, in order, behind the answers still awaited;
any other frame waits until every answer before it is out (L{InOrder.whenDone}), as the
protocol handles frames strictly in order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

T = TypeVar("T")


class _Slot:
    __slots__ = ("ready", "run")

    def __init__(self, ready: bool, run: Callable[[], None]) -> None:
        self.ready = ready
        self.run = run


class InOrder:
    """
    Per session, the answers not yet sent: each runs once those before it have.
    """

    def __init__(self) -> None:
        self._queues: dict[Any, deque[_Slot]] = {}
        self._waiters: dict[Any, list[Deferred[None]]] = {}

    def busy(self, session: Any) -> bool:
        return session in self._queues

    def then(self, session: Any, action: Callable[[], None]) -> None:
        """
        Run C{action} now if nothing is awaited for C{session}, else after what is.
        """
        queue = self._queues.get(session)
        if queue is None:
            action()
        else:
            queue.append(_Slot(True, action))

    def after(
        self,
        session: Any,
        result: Deferred[T],
        done: Callable[[T], None],
        failed: Callable[[Failure], None],
    ) -> None:
        """
        When C{result} fires, C{done} (or C{failed}) runs in its turn among C{session}'s answers.
        """
        slot = _Slot(False, lambda: None)
        self._queues.setdefault(session, deque()).append(slot)

        def fired(value: T) -> None:
            slot.ready, slot.run = True, lambda: done(value)
            self._drain(session)

        def broke(failure: Failure) -> None:
            slot.ready, slot.run = True, lambda: failed(failure)
            self._drain(session)

        result.addCallbacks(fired, broke)

    def whenDone(self, session: Any) -> Deferred[None] | None:
        """
        L{None} if nothing is awaited for C{session}; else fires once all of it is out.
        """
        if session not in self._queues:
            return None
        waiting: Deferred[None] = Deferred()
        self._waiters.setdefault(session, []).append(waiting)
        return waiting

    def forget(self, session: Any) -> None:
        """
        C{session} ended: what it waits for is answered to nobody.
        """
        self._queues.pop(session, None)
        for waiting in self._waiters.pop(session, []):
            waiting.callback(None)

    def _drain(self, session: Any) -> None:
        queue = self._queues.get(session)
        while queue and queue[0].ready:
            queue.popleft().run()
            if self._queues.get(session) is not queue:
                return  # forgotten by what ran
        if queue is not None and not queue:
            del self._queues[session]
            for waiting in self._waiters.pop(session, []):
                waiting.callback(None)
