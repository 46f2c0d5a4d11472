"""
The UDP server's timers and budgets, in one frozen value passed in from the top.

Today's values are the defaults; tests and operators pass others instead of
patching module constants, so nothing has to wait real seconds to be tested.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatroom import reliable
from chatroom.settings import IDLE_TIMEOUT


@dataclass(frozen=True, slots=True)
class UDPTimings:
    """
    Every duration (in seconds) and budget the UDP server runs on.
    """

    #: How often the shared timer runs (retransmissions, HELLOs, expiries).
    tick: float = 0.025
    #: A proven session that sends nothing real for this long is over.
    idleTimeout: float = IDLE_TIMEOUT
    #: At shutdown, how long closing sessions may wait for their last acks.
    shutdownGrace: float = 2.0
    #: A first datagram's HELLO waits this long for its acknowledgement.
    provisionalLifetime: float = 10.0
    #: The first HELLO is sent again after this long, then after twice that.
    helloRTO: float = 0.2
    #: How often a HELLO is sent again (so at most 1 + this many in all).
    helloRetries: int = 2
    #: A closing session is forgotten after this long, acknowledged or not:
    #: the retries would have given up by then on a peer that stayed silent.
    closeLimit: float = 30.0
    #: Frames resent per tick by all sessions together. When thousands of
    #: sessions time out at once (queues grew faster than the first
    #: round-trip estimates), resending everything at once would only
    #: deepen the queues.
    resendsPerTick: int = 512
    #: Frames in flight on all sessions together before each session's
    #: window (64 frames) is halved, down to 8 (see L{chatroom.window.SendWindow}):
    #: what a burst to every session may hold at once.
    inFlightBudget: int = 16384
    #: Each link's retransmission timer before a round trip was measured.
    initialRTO: float = reliable.INITIAL_RTO
    #: The floor of each link's retransmission timer.
    minRTO: float = reliable.MIN_RTO
