"""
One proven UDP session as the chat service sees it (an L{IChannel}), and its lifecycle.
The channel alone moves itself through OPEN, CLOSING and FORGOTTEN; the session table
only tells it what happened (a datagram, a tick, a deadline, silence) and is told when
to drop it.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

from chatroom.codec import Reason
from chatroom.pipeline import IChannel, IDoorway, Session
from chatroom.plaintext import isLoopback
from chatroom.reliable import LinkFailure, ReliableLink
from chatroom.udp.timings import UDPTimings
from chatroom.window import SendWindow

Address = tuple[str, int]

#: What each way a link can fail means to the room.
CHAT_REASONS: dict[LinkFailure, str] = {
    LinkFailure.GAVE_UP: Reason.TIMEOUT,  # the peer stopped answering
    LinkFailure.EXHAUSTED: Reason.TIMEOUT,  # no numbers left: the session ends like a lost one
    LinkFailure.OVERFLOW: Reason.DROPPED,  # it took less than it was sent
}


class ChannelState(Enum):
    #: The session's frames flow both ways.
    OPEN = "open"
    #: The service closed it: waiting for our last frames' acknowledgements,
    #: at most until C{closeBy}. Frames from the peer are acknowledged, not handled.
    CLOSING = "closing"
    #: Out of the session table: every later input is ignored.
    FORGOTTEN = "forgotten"


# Read on every datagram: module names are quicker to reach than Enum members.
OPEN, CLOSING, FORGOTTEN = ChannelState.OPEN, ChannelState.CLOSING, ChannelState.FORGOTTEN


class ChannelInput(Enum):
    #: The service closed the session.
    CLOSE = "close"
    #: All was acknowledged, a deadline passed, the peer fell silent, or the link failed.
    FORGET = "forget"


#: Every move a channel can make; an input not listed for a state is ignored.
TRANSITIONS: dict[tuple[ChannelState, ChannelInput], ChannelState] = {
    (ChannelState.OPEN, ChannelInput.CLOSE): ChannelState.CLOSING,
    (ChannelState.OPEN, ChannelInput.FORGET): ChannelState.FORGOTTEN,
    (ChannelState.CLOSING, ChannelInput.FORGET): ChannelState.FORGOTTEN,
}


class ChannelHost(Protocol):
    """
    What a channel needs from the session table that holds it.
    """

    clock: IReactorTime
    log: Logger
    timings: UDPTimings
    sendWindow: SendWindow  # shared by every channel's link
    #: Whether the socket's datagrams travel inside DTLS (a door underneath
    #: which this session table runs says so); plain UDP's are not.
    encrypted: bool

    def now(self) -> float: ...

    def write(self, datagram: bytes, addr: Address) -> None: ...

    def track(self, channel: UDPChannel) -> None:
        """The channel (not forgotten, link alive) has frames in flight: watch it."""

    def untrack(self, channel: UDPChannel) -> None:
        """The channel has nothing left in flight (or its link died): stop watching it."""

    def closeGrace(self) -> float:
        """How long a channel closing now may wait for its acknowledgements."""

    def watchClosing(self, channel: UDPChannel) -> None:
        """The channel is closing: forget it by its C{closeBy}."""

    def release(self, channel: UDPChannel) -> None:
        """The channel is forgotten: out of every table."""


@implementer(IChannel)
class UDPChannel:
    """
    One proven UDP session: its reliable link, its chat session, its lifecycle.
    """

    __slots__ = (
        "_host",
        "_waiters",
        "address",
        "closeBy",
        "host",
        "link",
        "session",
        "state",
    )

    transportName = "UDP"

    def __init__(
        self, host: ChannelHost, address: Address, sendSeq: int, recvSeq: int, now: float
    ) -> None:
        self._host = host
        self.address = address
        self.host = address[0]
        timings = host.timings
        self.link = ReliableLink(
            self.transmit,
            self.deliver,
            self.failed,
            sendSeq=sendSeq,
            recvSeq=recvSeq,
            now=now,
            initialRTO=timings.initialRTO,
            minRTO=timings.minRTO,
            window=host.sendWindow,
        )
        self.session: Session | None = None
        self.state = OPEN
        self.closeBy: float | None = None
        self._waiters: list[Deferred[None]] | None = None  # made by close()

    @property
    def encrypted(self) -> bool:
        return self._host.encrypted

    @property
    def loopback(self) -> bool:
        return isLoopback(self.host)

    @property
    def peer(self) -> str:
        """
        C{host:port}, made when the console needs it rather than kept by
        each of thousands of sessions.
        """
        return f"{self.address[0]}:{self.address[1]}"

    def _move(self, event: ChannelInput) -> bool:
        """
        Make the move C{event} calls for, if any: whether there was one.
        """
        after = TRANSITIONS.get((self.state, event))
        if after is None:
            return False
        self.state = after
        return True

    # IChannel

    def send(self, frame: bytes) -> None:
        if not self.link.send(frame, self._host.now()):
            # No datagram can carry it: a bug of ours (no server frame is
            # over 8192 bytes). Only this frame is lost; the session goes on,
            # since ending it would let whoever provoked the frame drop
            # someone else's session.
            self._host.log.error(
                "frame of {length} bytes for UDP session {peer} cannot fit a datagram; not sent",
                length=len(frame),
                peer=self.peer,
            )
            return
        if self.state is not FORGOTTEN and not self.link.dead:
            self._host.track(self)

    def close(self) -> Deferred[None]:
        """
        Forget the session once everything sent is acknowledged (or the
        peer is given up on); until then its datagrams still belong to it.
        """
        if self.state is FORGOTTEN:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        if self._move(ChannelInput.CLOSE):
            self.closeBy = self._host.now() + self._host.closeGrace()
            self._host.watchClosing(self)
            if self.link.idle:
                self.forget()
        return waiter

    def pauseReading(self) -> None:
        self.link.pause()

    def resumeReading(self) -> None:
        self.link.resume()

    # From the session table.

    def open(self, service: IDoorway) -> None:
        """
        Join the chat service, which greets nobody: the HELLO was ours.
        """
        self.session = service.connect(self, greeted=True)

    def received(self, seq: int, frame: bytes | None, now: float) -> bool:
        """
        A datagram of this session: frame C{seq}, or an ack of ours (C{frame}
        is L{None}).

        @return: whether it was a sign of life (see L{ReliableLink}).
        """
        if frame is None:
            alive = self.link.ackReceived(seq, now)
            if self.state is CLOSING and self.link.idle:
                self.forget()
        else:
            alive = self.link.frameReceived(seq, frame, now)
        return alive and self.state is not FORGOTTEN

    def tick(self, now: float, budget: int) -> int:
        """
        Let the link resend what is due, at most C{budget} frames. A channel
        with nothing left in flight is no longer watched (it is tracked
        again when it sends); a closing one is forgotten.

        @return: how many frames were resent.
        """
        link = self.link
        spent = link.tick(now, budget)
        # Once per channel with frames in flight, every tick: one property read.
        if link.idle or link.dead:
            if self.state is CLOSING:
                self.forget()  # out of every table
            else:
                self._host.untrack(self)
        return spent

    @property
    def sending(self) -> bool:
        """
        Whether the link has frames in flight that the timer must watch.
        """
        link = self.link
        return self.state is not FORGOTTEN and not link.idle and not link.dead

    def deadline(self, now: float) -> None:
        """
        A closing channel whose C{closeBy} passed is forgotten, acknowledged or not.
        """
        if self.state is CLOSING and self.closeBy is not None and self.closeBy <= now:
            self.forget()

    def hurry(self, cutoff: float) -> None:
        """
        The server shuts down: close by C{cutoff} at the latest.
        """
        if self.state is CLOSING:
            self.closeBy = cutoff if self.closeBy is None else min(self.closeBy, cutoff)

    def forget(self, why: str | None = None) -> None:
        """
        Drop the session: after its last frame was acknowledged or a
        deadline passed (C{why} is L{None}: L{CLOSED}), or because the peer
        fell silent or its link failed (C{TIMEOUT}, C{DROPPED}).
        """
        if not self._move(ChannelInput.FORGET):
            return
        self._host.release(self)
        if self.session is not None:
            self.session.channelClosed(why or Reason.CLOSED)
        waiters, self._waiters = self._waiters or [], None
        for waiter in waiters:
            waiter.callback(None)

    # From the link.

    def transmit(self, datagram: bytes) -> None:
        self._host.write(datagram, self.address)

    def deliver(self, frame: bytes) -> None:
        if self.session is not None and self.state is OPEN:
            self.session.lineReceived(frame)

    def failed(self, failure: LinkFailure) -> None:
        # Perhaps inside send(), in the middle of a broadcast: the service
        # hears of it on the next turn, never from inside send().
        self._host.clock.callLater(0, self.forget, CHAT_REASONS[failure])
