"""
The UDP transport: numbered datagrams, made reliable by L{chatroom.reliable}.

A session is a client's (address, port). It starts I{provisional}: the
server answers the first datagram with C{C HELLO} alone and neither
acknowledges nor handles anything until the client acknowledges that HELLO,
which only a client really receiving at that address can do. So spoofed
datagrams cannot reserve names, fill memory, or make the server an
amplifier. Once proven, the session joins the L{ChatService} like any TCP
client; every chat rule stays there.
"""

from __future__ import annotations

import heapq
import random
from collections import OrderedDict
from dataclasses import dataclass, field

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from zope.interface import implementer

from chatroom.reliable import WINDOW, ReliableLink, frameDatagram, parseDatagram
from chatroom.service import CLOSED, TIMEOUT, ChatService, IChannel, Session, hello

#: How often the shared timer runs (retransmissions, HELLOs, expiries).
TICK = 0.025
IDLE_TIMEOUT = 60.0
PROVISIONAL_LIMIT = 1024
PROVISIONAL_LIFETIME = 10.0
HELLO_RETRIES = 2
HELLO_RTO = 0.2
#: Frames kept from a provisional session; the client resends the rest.
PROVISIONAL_FRAMES = 8
SHUTDOWN_GRACE = 2.0

Address = tuple[str, int]


@dataclass(slots=True)
class Provisional:
    """
    A first datagram we answered with HELLO, waiting for its acknowledgement.
    """

    clientSeq: int
    serverSeq: int
    began: float
    hello: bytes
    hellos: int = 1
    frames: dict[int, bytes] = field(default_factory=dict)


@implementer(IChannel)
class UDPChannel:
    """
    One proven UDP session, as the chat service sees it.
    """

    __slots__ = (
        "_server",
        "address",
        "peer",
        "host",
        "link",
        "session",
        "closing",
        "closeBy",
        "forgotten",
        "_waiters",
    )

    transportName = "UDP"

    def __init__(
        self,
        server: ChatDatagramProtocol,
        address: Address,
        sendSeq: int,
        recvSeq: int,
        now: float,
    ) -> None:
        self._server = server
        self.address = address
        self.peer = f"{address[0]}:{address[1]}"
        self.host = address[0]
        self.link = ReliableLink(
            self.transmit, self.deliver, self.failed, sendSeq=sendSeq, recvSeq=recvSeq, now=now
        )
        self.session: Session | None = None
        self.closing = False
        self.closeBy: float | None = None
        self.forgotten = False
        self._waiters: list[Deferred[None]] = []

    # IChannel

    def send(self, frame: bytes) -> None:
        self.link.send(frame, self._server.now())
        self._server.track(self)

    def close(self) -> Deferred[None]:
        """
        Forget the session once everything sent is acknowledged (or the
        peer is given up on); until then its datagrams still belong to it.
        """
        if self.forgotten:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._waiters.append(waiter)
        if not self.closing:
            self.closing = True
            self._server.closing(self)
        return waiter

    def pauseReading(self) -> None:
        self.link.pause()

    def resumeReading(self) -> None:
        self.link.resume()

    # From the link.

    def transmit(self, datagram: bytes) -> None:
        self._server.transport.write(datagram, self.address)

    def deliver(self, frame: bytes) -> None:
        if self.session is not None and not self.closing:
            self.session.lineReceived(frame)

    def failed(self, why: str) -> None:
        # Perhaps inside send(), in the middle of a broadcast: the service
        # hears of it on the next turn, never from inside send().
        self._server.clock.callLater(0, self._server.forget, self, why)

    def gone(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(None)


class ChatDatagramProtocol(DatagramProtocol):
    """
    Every UDP session of the room, on one socket, driven by one timer.
    """

    log = Logger()

    def __init__(
        self,
        service: ChatService,
        clock: IReactorTime,
        idleTimeout: float = IDLE_TIMEOUT,
        rng: random.Random | None = None,
    ) -> None:
        self.service = service
        self.clock = clock
        self.idleTimeout = idleTimeout
        self._rng = rng or random.SystemRandom()
        self.channels: dict[Address, UDPChannel] = {}
        self.provisional: dict[Address, Provisional] = {}  # in order of arrival
        self._helloDue: list[tuple[float, int, Address]] = []  # a heap
        self._heard: OrderedDict[Address, float] = OrderedDict()  # oldest first
        self._sending: set[UDPChannel] = set()  # channels with frames in flight
        self._closing: set[UDPChannel] = set()
        self._empty: list[Deferred[None]] = []
        self._order = 0
        self.accepting = True
        self._ticker = LoopingCall(self._tick)
        self._ticker.clock = clock

    def now(self) -> float:
        return self.clock.seconds()

    def startProtocol(self) -> None:
        self._ticker.start(TICK, now=False)

    def stopProtocol(self) -> None:
        if self._ticker.running:
            self._ticker.stop()

    # Datagrams in.

    def datagramReceived(self, data: bytes, addr: Address) -> None:
        channel = self.channels.get(addr)
        if channel is not None:
            self._fromSession(channel, data)
            return
        provisional = self.provisional.get(addr)
        if provisional is not None:
            self._fromProvisional(addr, provisional, data)
        elif self.accepting:
            self._firstDatagram(addr, data)

    def _firstDatagram(self, addr: Address, data: bytes) -> None:
        if len(self.provisional) >= PROVISIONAL_LIMIT:
            return
        parsed = parseDatagram(data)
        if parsed is None or parsed[1] is None:
            return
        seq, frame = parsed
        if frame != b"C LOGIN" and not frame.startswith(b"C LOGIN "):
            return
        now = self.now()
        serverSeq = self._rng.randrange(2**31)
        greeting = frameDatagram(serverSeq, hello("UDP"))
        self.provisional[addr] = Provisional(seq, serverSeq, now, greeting, frames={seq: frame})
        self._helloLater(addr, now + HELLO_RTO)
        self.transport.write(greeting, addr)

    def _helloLater(self, addr: Address, due: float) -> None:
        self._order += 1
        heapq.heappush(self._helloDue, (due, self._order, addr))

    def _fromProvisional(self, addr: Address, provisional: Provisional, data: bytes) -> None:
        parsed = parseDatagram(data)
        if parsed is None:
            return
        seq, frame = parsed
        if frame is None:
            if seq == provisional.serverSeq:
                self._prove(addr, provisional)
            return
        frames = provisional.frames
        if 0 <= seq - provisional.clientSeq < WINDOW and len(frames) < PROVISIONAL_FRAMES:
            frames.setdefault(seq, frame)

    def _prove(self, addr: Address, provisional: Provisional) -> None:
        """
        The client acknowledged our HELLO: the session is real now.
        """
        del self.provisional[addr]
        now = self.now()
        channel = UDPChannel(self, addr, provisional.serverSeq + 1, provisional.clientSeq, now)
        self.channels[addr] = channel
        self._heard[addr] = now
        channel.session = self.service.connect(channel, greeted=True)
        for seq in sorted(provisional.frames):
            channel.link.frameReceived(seq, provisional.frames[seq], now)

    def _fromSession(self, channel: UDPChannel, data: bytes) -> None:
        parsed = parseDatagram(data)
        if parsed is None:
            return  # garbage: dropped, the session untouched
        now = self.now()
        self._heard[channel.address] = now
        self._heard.move_to_end(channel.address)
        seq, frame = parsed
        if frame is None:
            channel.link.ackReceived(seq, now)
            if channel.closing and channel.link.idle:
                self.forget(channel, None)
        else:
            channel.link.frameReceived(seq, frame, now)

    # Book-keeping for channels.

    def track(self, channel: UDPChannel) -> None:
        """
        The channel has frames in flight: the timer must watch it.
        """
        if not channel.forgotten and not channel.link.dead:
            self._sending.add(channel)

    def closing(self, channel: UDPChannel) -> None:
        if not self.accepting:
            channel.closeBy = self.now() + SHUTDOWN_GRACE
        self._closing.add(channel)
        if channel.link.idle:
            self.forget(channel, None)

    def forget(self, channel: UDPChannel, why: str | None) -> None:
        """
        Drop a session: after its last frame was acknowledged (C{why} is
        L{None}), or because its link failed (C{TIMEOUT}, C{DROPPED}).
        """
        if channel.forgotten:
            return
        channel.forgotten = True
        del self.channels[channel.address]
        self._heard.pop(channel.address, None)
        self._sending.discard(channel)
        self._closing.discard(channel)
        if channel.session is not None:
            channel.session.channelClosed(why or CLOSED)
        channel.gone()
        if not self.channels:
            empty, self._empty = self._empty, []
            for waiter in empty:
                waiter.callback(None)

    # The one timer.

    def _tick(self) -> None:
        now = self.now()
        for channel in list(self._sending):
            channel.link.tick(now)
            if channel.link.idle or channel.link.dead:
                self._sending.discard(channel)
                if channel.closing and not channel.forgotten:
                    self.forget(channel, None)
        for channel in [c for c in self._closing if c.closeBy is not None and c.closeBy <= now]:
            self.forget(channel, None)
        self._expireProvisional(now)
        while self._heard:
            addr, heard = next(iter(self._heard.items()))
            if heard + self.idleTimeout > now:
                break
            self.log.info("UDP session {peer} went silent", peer=self.channels[addr].peer)
            self.forget(self.channels[addr], TIMEOUT)

    def _expireProvisional(self, now: float) -> None:
        while self._helloDue and self._helloDue[0][0] <= now:
            _, _, addr = heapq.heappop(self._helloDue)
            provisional = self.provisional.get(addr)
            if provisional is None or provisional.hellos > HELLO_RETRIES:
                continue
            provisional.hellos += 1
            self.transport.write(provisional.hello, addr)
            if provisional.hellos <= HELLO_RETRIES:
                self._helloLater(addr, now + HELLO_RTO * 2 ** (provisional.hellos - 1))
        for addr, provisional in list(self.provisional.items()):
            if provisional.began + PROVISIONAL_LIFETIME > now:
                break
            del self.provisional[addr]

    # Shutting down.

    def drain(self) -> Deferred[None]:
        """
        Stop taking new sessions; fire once every session is gone (the chat
        service says BYE to each) or after L{SHUTDOWN_GRACE}, whichever is
        first.
        """
        self.accepting = False
        self.provisional.clear()
        self._helloDue.clear()
        for channel in self._closing:
            channel.closeBy = self.now() + SHUTDOWN_GRACE
        if not self.channels:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._empty.append(waiter)

        def late() -> None:
            for channel in list(self.channels.values()):
                self.forget(channel, None)

        cut = self.clock.callLater(SHUTDOWN_GRACE + 2 * TICK, late)

        def done(result: None) -> None:
            if cut.active():
                cut.cancel()
            return result

        return waiter.addBoth(done)
