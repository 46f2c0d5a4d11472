"""
The frames a reliable link (L{chatroom.reliable.ReliableLink}) has in
flight: how many it may have (the span a receiver accepts, L{WINDOW}, and
the share of it each link of a server gets when thousands of links share
one memory budget, L{SendWindow}), and what it keeps of each (L{InFlight}).

Apart from the link because the sessions' owner (the UDP server) holds one
L{SendWindow} for all its links and shares it out as they come and go, and
the handshake checks numbers against L{WINDOW}, without either needing the
link itself; and because what a window holds is what a burst costs in
memory, which deserves a page of its own.
"""

from __future__ import annotations

WINDOW = 64  # the receiver's reorder window, and so the sender's span
#: The fewest frames a link may have in flight however many links share the
#: budget (see L{SendWindow}): enough for fast retransmission to work.
MIN_WINDOW = 8


class SendWindow:
    """
    How many frames each link of one server may have in flight, shared by all
    of them: L{WINDOW} (what the peer's reorder window takes) while there are
    few links, halved as they grow so that all of them together hold about a
    budget at most, never below L{MIN_WINDOW}.

    A burst (a public message, or the join notices of a crowd logging in)
    fills every link's window at once, and the memory of that peak stays with
    the process long after the frames are acknowledged: Python's allocator
    rarely hands it back. So the peak, not the idle sessions, decides the
    server's memory, and the peak must not grow with the window times the
    links. Fewer frames in flight per link cost nothing when there are
    thousands: the server's CPU, not the round trip, limits them.
    """

    __slots__ = ("frames",)

    def __init__(self, frames: int = WINDOW) -> None:
        self.frames = frames

    def share(self, links: int, budget: int) -> None:
        """
        Share C{budget} frames in flight between C{links} links.
        """
        frames = WINDOW
        while frames > MIN_WINDOW and frames * links > budget:
            frames //= 2
        self.frames = frames


class InFlight:
    """
    A frame sent and not yet acknowledged.

    It keeps the frame, which a broadcast shares between every link, not its
    datagram, which would be a copy per link: a burst to thousands of links
    holds up to L{WINDOW} of these on each, and the memory that peak takes
    stays with the process (Python's allocator rarely hands it back). The
    datagram is made again on the rare retransmission.
    """

    __slots__ = (
        "deadline",
        "firstSent",
        "frame",
        "lastSent",
        "passed",
        "retries",
        "sendOrder",
        "silent",
        "timeouts",
    )

    def __init__(self, frame: bytes, now: float, rto: float, order: int) -> None:
        self.frame = frame
        self.sendOrder = order  # when it was last sent, counted in transmissions
        self.firstSent = now
        self.lastSent = now
        self.deadline = now + rto
        self.retries = 0  # resent at all (then Karn: no RTT sample)
        self.timeouts = 0  # timer expiries: each doubles the timer
        self.silent = 0  # timeouts in a row with nothing heard from the peer
        self.passed = 0  # later frames acknowledged since we last sent this one
