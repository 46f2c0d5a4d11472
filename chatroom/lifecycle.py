"""
A session's lifecycle: its phases, the moves allowed between them, and tickets
that let a late asynchronous answer be ignored by the machine.

It owns only the phase; what each phase means to the room (a name reserved, a
deadline running) is the room's, and the pipeline's reading side is separate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar


class Phase(Enum):
    """
    Where a session is in its life. Each phase means one thing.
    """

    NEW = "NEW"  # connected, no login under way
    LOOKING_UP = "LOOKING_UP"  # name reserved, the account store is asked about it
    AWAITING_PASSWORD = "AWAITING_PASSWORD"  # C PASSWORD sent, waiting for C PASS
    CHECKING_PASSWORD = "CHECKING_PASSWORD"  # the password (or new account) is checked
    ACTIVE = "ACTIVE"  # logged in, present in the room
    ENDED = "ENDED"  # gone; nothing more is sent or handled

    # Every frame's phase check hashes one: by identity, as Enum compares them,
    # rather than Enum's own __hash__, a Python call each time.
    __hash__ = object.__hash__


#: Phases in which a login holds a name reservation.
LOGGING_IN = frozenset({Phase.LOOKING_UP, Phase.AWAITING_PASSWORD, Phase.CHECKING_PASSWORD})

#: Every move a session may make. A login that fails goes back to NEW; any
#: phase may end. Anything else is a bug of ours and raises.
TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.NEW: frozenset({Phase.LOOKING_UP, Phase.ACTIVE, Phase.ENDED}),
    Phase.LOOKING_UP: frozenset({Phase.AWAITING_PASSWORD, Phase.NEW, Phase.ENDED}),
    Phase.AWAITING_PASSWORD: frozenset({Phase.CHECKING_PASSWORD, Phase.NEW, Phase.ENDED}),
    Phase.CHECKING_PASSWORD: frozenset({Phase.ACTIVE, Phase.NEW, Phase.ENDED}),
    Phase.ACTIVE: frozenset({Phase.ENDED}),
    Phase.ENDED: frozenset(),
}


class IllegalMove(RuntimeError):
    """
    A move the transition table does not allow: a bug, never the client's doing.
    """


@dataclass(frozen=True, slots=True)
class Ticket:
    """
    Which wait an asynchronous answer belongs to: a phase and the count of
    moves made before it. Any move at all makes the ticket stale.
    """

    phase: Phase
    moves: int


T = TypeVar("T")


class Lifecycle:
    """
    The phase of one session, changed only through L{move}.

    Asynchronous answers (the account look-up, the password check, a store
    failure) are delivered through L{answer}: an answer whose ticket is stale
    (the session ended, or gave up this login and started another) is
    dropped here, so no callback has to look at the phase itself.
    """

    __slots__ = ("_moves", "ended", "phase")

    def __init__(self) -> None:
        self.phase = Phase.NEW
        #: Whether the phase is L{Phase.ENDED}: read several times a frame,
        #: so kept beside the phase (by L{move}) rather than computed.
        self.ended = False
        self._moves = 0

    def move(self, to: Phase) -> None:
        """
        Go to phase C{to}.

        @raise IllegalMove: if the table does not allow it.
        """
        if to not in TRANSITIONS[self.phase]:
            raise IllegalMove(f"{self.phase.name} -> {to.name}")
        self.phase = to
        self.ended = to is Phase.ENDED
        self._moves += 1

    def wait(self, phase: Phase) -> Ticket:
        """
        Move to C{phase}, a phase that waits for an answer, and return the
        ticket the answer must bring.
        """
        self.move(phase)
        return Ticket(phase, self._moves)

    def current(self, ticket: Ticket) -> bool:
        return ticket.phase is self.phase and ticket.moves == self._moves

    def answer(
        self, ticket: Ticket, handler: Callable[..., T], *args: Any
    ) -> Callable[[Any], T | None]:
        """
        Wrap C{handler} (a callback or errback) so that it runs only while
        C{ticket} is current; a late answer is dropped and gives L{None}.
        """

        def deliver(result: Any) -> T | None:
            if not self.current(ticket):
                return None
            return handler(result, *args)

        return deliver
