"""
Reliable, ordered, exactly-once frames over datagrams.

Each side numbers its frames from a random start; the receiver acknowledges
every frame datagram and hands frames up in order, once each; the sender
keeps what is unacknowledged and retransmits it on an RFC 6298 timer.

Nothing here knows about chat, sockets or reactors. A L{ReliableLink}
transmits through a callable, delivers through another, and is driven by
L{ReliableLink.tick} from one timer shared by every link, so a thousand
links cost one timer, not a thousand. How many frames it may have in
flight, and what it keeps of each, is L{chatroom.window}'s business.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from enum import Enum

from chatroom.datagrams import MAX_DATAGRAM, SEQ_LIMIT, ackDatagram, frameDatagram
from chatroom.window import WINDOW, InFlight, SendWindow

#: The longest frame a datagram can carry behind the longest number.
_MAX_FRAME = MAX_DATAGRAM - len(b"%d " % (SEQ_LIMIT - 1,))

QUEUE_LIMIT = 4096  # frames waiting behind the window
#: Bytes waiting behind the window: a peer that takes nothing cannot make
#: us hold 4096 frames of 8 KiB (32 MiB) on its behalf. 4096 ordinary
#: messages fit; a backlog of long ones is dropped sooner.
QUEUE_BYTES = 512 * 1024
MAX_RETRIES = 6
INITIAL_RTO = 0.2
MIN_RTO = 0.1
MAX_RTO = 60.0
#: Acks for later frames that make us resend an older one without waiting
#: for its timer (TCP's fast retransmit, RFC 5681, with per-frame acks).
FAST_RETRANSMIT = 3
#: Frames a link resends per tick when timers expire: expiries that fall
#: together are spread out, so their acks do not arrive all at once.
RESEND_PER_TICK = 8
#: Bytes of out-of-order frames a receiver keeps; beyond that they go
#: unacknowledged (and so are sent again), like frames beyond the window.
REORDER_BYTES = 64 * 1024


class LinkFailure(Enum):
    """
    Why a link gave up: the link's own outcomes, which its user translates
    into whatever they mean there (the UDP server into chat reasons).
    """

    #: The peer acknowledged nothing through L{MAX_RETRIES} retransmissions.
    GAVE_UP = "gave up"
    #: More was queued behind the window than L{QUEUE_LIMIT} frames or
    #: L{QUEUE_BYTES} bytes: the peer takes less than it is sent.
    OVERFLOW = "overflow"
    #: Our sequence numbers reached L{SEQ_LIMIT}: no new frame can be sent.
    EXHAUSTED = "exhausted"


class ReliableLink:
    """
    One peer's reliable stream of frames, in both directions.

    @param transmit: sends one datagram to the peer.
    @param deliver: receives each of the peer's frames, in order, once.
    @param failed: called once with a L{LinkFailure} when the link is
        beyond saving; the link does nothing after that.
    @param sendSeq: the number of our first frame.
    @param recvSeq: the number of the peer's first frame, or L{None} to
        learn it from the first frame that arrives.
    @param initialRTO: the retransmission timer before any round trip was
        measured.
    @param minRTO: the floor of the retransmission timer.
    @param window: how many frames may be in flight, shared with other
        links; L{WINDOW} if not given.
    """

    __slots__ = (
        "_deliver",
        "_failed",
        "_inFlight",
        "_queue",
        "_queueBytes",
        "_reorder",
        "_reorderBytes",
        "_transmissions",
        "_transmit",
        "_window",
        "dead",
        "expected",
        "lastAcked",
        "minRTO",
        "nextDeadline",
        "nextSend",
        "paused",
        "retransmissions",
        "rto",
        "rttvar",
        "srtt",
    )

    def __init__(
        self,
        transmit: Callable[[bytes], object],
        deliver: Callable[[bytes], object],
        failed: Callable[[LinkFailure], object],
        sendSeq: int,
        recvSeq: int | None = None,
        now: float = 0.0,
        initialRTO: float = INITIAL_RTO,
        minRTO: float = MIN_RTO,
        window: SendWindow | None = None,
    ) -> None:
        self._transmit = transmit
        self._window = window if window is not None else SendWindow()
        self._deliver = deliver
        self._failed = failed
        self.nextSend = sendSeq
        self.expected = recvSeq
        # Thousands of links sit idle between bursts, and Python's containers
        # never shrink: a dict that held a burst's 64 frames keeps 3 KB, an
        # empty deque costs 760 bytes. So the queue exists only while frames
        # wait, and what a burst grew is replaced once drained (see tick).
        self._inFlight: OrderedDict[int, InFlight] = OrderedDict()
        self._queue: deque[bytes] | None = None
        self._queueBytes = 0
        self._reorder: dict[int, bytes] = {}
        self._reorderBytes = 0
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.rto = initialRTO
        self.minRTO = minRTO
        self.lastAcked = now  # when a frame in flight was last acknowledged
        self.nextDeadline: float | None = None
        self.dead = False
        self.paused = False  # refuse new frames (unacknowledged) for now
        self.retransmissions = 0
        self._transmissions = 0

    # Sending.

    def send(self, frame: bytes, now: float) -> bool:
        """
        Send C{frame} as soon as the window allows.

        @return: C{False} if the frame was refused because no datagram can
            carry it (see L{MAX_DATAGRAM}): sent, it would be lost every
            time, and every later frame would wait behind it forever. The
            caller decides what that means; the link goes on as if the
            frame had never been offered.
        """
        if len(frame) > _MAX_FRAME:
            return False
        if self.dead:
            return True
        if self._windowOpen() and not self._queue:
            self._transmitNew(frame, now)
        elif self._queue is None:
            self._queue = deque((frame,))
            self._queueBytes = len(frame)
        elif len(self._queue) < QUEUE_LIMIT and self._queueBytes + len(frame) <= QUEUE_BYTES:
            self._queue.append(frame)
            self._queueBytes += len(frame)
        else:
            self._fail(LinkFailure.OVERFLOW)
        return True

    def _windowOpen(self) -> bool:
        """
        Whether the next frame fits the peer's reorder window: it must be
        within L{WINDOW} of our oldest unacknowledged frame, or the peer
        would drop it.
        """
        if not self._inFlight:
            return True
        return self.nextSend - next(iter(self._inFlight)) < self._window.frames

    def _transmitNew(self, frame: bytes, now: float) -> None:
        seq = self.nextSend
        if seq >= SEQ_LIMIT:
            self._fail(LinkFailure.EXHAUSTED)
            return
        self.nextSend = seq + 1
        self._transmissions += 1
        entry = InFlight(frame, now, self.rto, self._transmissions)
        self._inFlight[seq] = entry
        self._schedule(entry.deadline)
        self._transmit(frameDatagram(seq, frame))

    def _schedule(self, deadline: float) -> None:
        if self.nextDeadline is None or deadline < self.nextDeadline:
            self.nextDeadline = deadline

    def ackReceived(self, seq: int, now: float) -> bool:
        """
        The peer acknowledged our frame C{seq}.

        @return: whether it acknowledged a frame in flight. Only that is a
            sign of life: anyone can send C{A 0}. It is also the only proof
            that the peer receives us, so only that restarts the retries
            of the other frames in flight (see L{tick}).
        """
        if self.dead:
            return False
        entry = self._inFlight.pop(seq, None)
        if entry is None:
            return False  # a duplicate ack, or one for nothing we sent
        self.lastAcked = now
        if entry.retries == 0:  # Karn: retransmitted frames give no sample
            self._sample(now - entry.firstSent)
        self._passOver(seq, entry.sendOrder, now)
        queue = self._queue
        if queue is not None:
            while queue and self._windowOpen() and not self.dead:
                frame = queue.popleft()
                self._queueBytes -= len(frame)
                self._transmitNew(frame, now)
            if not queue:
                self._queue = None
        if not self._inFlight:
            self.nextDeadline = None
        return True

    def _passOver(self, seq: int, sendOrder: int, now: float) -> None:
        """
        Frame C{seq} was acknowledged: older frames last sent before it
        (by C{sendOrder}) were probably lost. Resend one as soon as
        L{FAST_RETRANSMIT} later frames got through, rather than stall the
        window until its timer runs out.

        Frames are kept in number order and acks mostly come in order, so
        this usually looks at nothing at all.
        """
        resend = []
        for olderSeq, older in self._inFlight.items():
            if olderSeq > seq:
                break
            if older.sendOrder < sendOrder:
                older.passed += 1
                if older.passed >= FAST_RETRANSMIT:
                    resend.append((olderSeq, older))
        for olderSeq, older in resend:
            self._retransmit(olderSeq, older, now)

    def _retransmit(self, seq: int, entry: InFlight, now: float) -> None:
        entry.retries += 1
        entry.passed = 0
        self._transmissions += 1
        entry.sendOrder = self._transmissions
        entry.lastSent = now
        self.retransmissions += 1
        self._transmit(frameDatagram(seq, entry.frame))

    def _sample(self, rtt: float) -> None:
        # RFC 6298 section 2, with G (clock granularity) taken as zero.
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.rto = min(MAX_RTO, max(self.minRTO, self.srtt + 4 * self.rttvar))

    def tick(self, now: float, budget: int = RESEND_PER_TICK) -> int:
        """
        Retransmit frames whose timers expired, at most C{budget} of them
        (the rest wait for the next tick); give up on a peer that stayed
        silent through L{MAX_RETRIES} retransmissions.

        The peer is judged gone only if it acknowledged none of our frames
        while one frame went unanswered that often: a live peer whose acks
        for one frame were unlucky is not a dead one. Its own new frames do
        not count here: they show it sends, not that it receives, and a
        peer that sends but never acknowledges must go like a silent one
        (PROTOCOL.md section 5, 1.1). They count for the silence timer,
        which is the caller's (see L{frameReceived}).

        @return: how many frames were resent.
        """
        if self.nextDeadline is None:
            # Nothing in flight: this is the tick that stops watching the link
            # (once per burst), so the time to give back what the burst grew.
            if not self._inFlight:
                self._inFlight = OrderedDict()
            return 0
        if self.dead or now < self.nextDeadline:
            return 0
        nextDeadline = None
        budget = min(budget, RESEND_PER_TICK)
        allowed = budget
        for seq, entry in self._inFlight.items():
            if entry.deadline <= now and budget:
                budget -= 1
                entry.silent = entry.silent + 1 if self.lastAcked <= entry.lastSent else 0
                if entry.silent > MAX_RETRIES:
                    self._fail(LinkFailure.GAVE_UP)
                    return allowed - budget
                entry.timeouts += 1
                backoff = min(entry.timeouts, MAX_RETRIES)
                entry.deadline = now + min(MAX_RTO, self.rto * 2**backoff)
                self._retransmit(seq, entry, now)
            if nextDeadline is None or entry.deadline < nextDeadline:
                nextDeadline = entry.deadline
        # Expired frames left over for want of budget go on the next tick.
        self.nextDeadline = nextDeadline
        return allowed - budget

    # Receiving.

    def frameReceived(self, seq: int, frame: bytes, now: float) -> bool:
        """
        The peer sent its frame C{seq}: acknowledge it, and deliver it and
        any frames it unblocks, in order.

        A duplicate is acknowledged again (our ack may have been lost) only
        if it lies within the L{WINDOW} numbers below the next expected
        one; anything older is ignored without an answer, so that stale
        numbers from a vanished peer's address get nothing back.

        @return: whether it was a new frame inside the window, accepted
            and acknowledged: the only frames that are a sign of life.
            Duplicates are not (anyone who saw one can repeat it).
        """
        if self.dead:
            return False
        if self.expected is None:
            self.expected = seq
        offset = seq - self.expected
        if offset >= WINDOW or offset < -WINDOW or (offset >= 0 and self.paused):
            return False  # beyond the window, stale (or not now): unacknowledged
        if (offset > 0 and seq in self._reorder) or offset < 0:
            self._transmit(ackDatagram(seq))  # a duplicate: its ack was lost
            return False
        if offset > 0:
            if self._reorderBytes + len(frame) > REORDER_BYTES:
                return False  # no room to keep it out of order: sent again later
            self._reorderBytes += len(frame)
            self._reorder[seq] = frame
        self._transmit(ackDatagram(seq))
        if offset == 0:
            # The usual case, the next frame in order: straight up, without
            # growing the reorder dict (which would then never shrink).
            self.expected = seq + 1
            self._deliver(frame)
            if self._reorder:
                self._deliverReady()
        return True

    def _deliverReady(self) -> None:
        reorder = self._reorder
        while not self.dead and not self.paused and self.expected in reorder:
            ready = reorder.pop(self.expected)
            self._reorderBytes -= len(ready)
            self.expected += 1
            self._deliver(ready)
        if not reorder and reorder is self._reorder:
            self._reorder = {}  # a fresh one is 64 bytes; a drained one keeps its table

    def pause(self) -> None:
        """
        Take no new frames for now: they go unacknowledged, so the peer
        sends them again later. Flow control without a buffer.
        """
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._deliverReady()

    # State.

    @property
    def idle(self) -> bool:
        """
        Everything we sent has been acknowledged.
        """
        return not self._inFlight and self._queue is None

    @property
    def inFlight(self) -> int:
        return len(self._inFlight)

    @property
    def queued(self) -> int:
        return len(self._queue or ())

    def _fail(self, why: LinkFailure) -> None:
        if not self.dead:
            self.dead = True
            self._inFlight.clear()
            self._queue = None
            self._queueBytes = 0
            self._reorder = {}
            self._reorderBytes = 0
            self.nextDeadline = None
            self._failed(why)
