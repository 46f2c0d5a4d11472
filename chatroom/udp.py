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

import hashlib
import heapq
import os
from collections import OrderedDict
from dataclasses import dataclass, field

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom.codec import MAX_CLIENT_FRAME
from chatroom.reliable import WINDOW, ReliableLink, frameDatagram, parseDatagram
from chatroom.service import CLOSED, TIMEOUT, ChatService, IChannel, Session, hello

#: How often the shared timer runs (retransmissions, HELLOs, expiries).
TICK = 0.025
#: Frames resent per tick by all sessions together. When thousands of
#: sessions time out at once (queues grew faster than the first round-trip
#: estimates), resending everything at once would only deepen the queues.
RESENDS_PER_TICK = 512
IDLE_TIMEOUT = 60.0
PROVISIONAL_LIMIT = 1024
PROVISIONAL_LIFETIME = 10.0
HELLO_RETRIES = 2
HELLO_RTO = 0.2
#: What a provisional session keeps of its frames; the client resends the
#: rest (nothing was acknowledged). 1024 of them hold at most 8 MiB.
PROVISIONAL_FRAMES = 8
PROVISIONAL_BYTES = 8 * 1024
SHUTDOWN_GRACE = 2.0
#: A closing session is forgotten after this long, acknowledged or not:
#: the retries would have given up by then on a peer that stayed silent.
CLOSE_LIMIT = 30.0

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
            self.transmit,
            self.deliver,
            self.failed,
            sendSeq=sendSeq,
            recvSeq=recvSeq,
            now=now,
        )
        self.session: Session | None = None
        self.closing = False
        self.closeBy: float | None = None
        self.forgotten = False
        self._waiters: list[Deferred[None]] = []

    # IChannel

    def send(self, frame: bytes) -> None:
        if not self.link.send(frame, self._server.now()):
            # No datagram can carry it: a bug of ours (no server frame is
            # over 8192 bytes). Only this frame is lost; the session goes on,
            # since ending it would let whoever provoked the frame drop
            # someone else's session.
            self._server.log.error(
                "frame of {length} bytes for UDP session {peer} cannot fit a datagram; not sent",
                length=len(frame),
                peer=self.peer,
            )
            return
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
        self._server.write(datagram, self.address)

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
        secret: bytes | None = None,
        shutdownGrace: float = SHUTDOWN_GRACE,
    ) -> None:
        self.service = service
        self.clock = clock
        self.idleTimeout = idleTimeout
        self.shutdownGrace = shutdownGrace
        self._secret = secret or os.urandom(16)
        self.channels: dict[Address, UDPChannel] = {}
        self.provisional: dict[Address, Provisional] = {}  # in order of arrival
        self._helloDue: list[tuple[float, int, Address]] = []  # a heap
        self._heard: OrderedDict[Address, float] = OrderedDict()  # oldest first
        self._sending: set[UDPChannel] = set()  # channels with frames in flight
        self._closing: set[UDPChannel] = set()
        self._empty: list[Deferred[None]] = []
        self._order = 0
        self._rotation = 0
        self.accepting = True
        self._ticker = LoopingCall(self._tick)
        self._ticker.clock = clock

    def now(self) -> float:
        return self.clock.seconds()

    def write(self, datagram: bytes, addr: Address) -> None:
        """
        Send a datagram; one that cannot be sent now (a full socket buffer,
        a refused or impossible address) is simply lost, as datagrams may
        be: the reliability layer sends it again.
        """
        try:
            self._sendto(datagram, addr)
        except OSError:
            pass

    def helloNumber(self, addr: Address, clientSeq: int) -> int:
        """
        The server's first number for a session: unguessable without our
        secret, yet the same for the same client address and first number,
        so a provisional session made again (its HELLO acknowledgements all
        lost) repeats the HELLO the client may already have learnt.
        """
        digest = hashlib.blake2b(
            b"%s %d %d" % (addr[0].encode(), addr[1], clientSeq),
            key=self._secret,
            digest_size=4,
        ).digest()
        return int.from_bytes(digest, "big") % 2**31

    def startProtocol(self) -> None:
        # Straight to the socket: Port.write would check, three times per
        # datagram, addresses that came from the kernel in the first place.
        self._sendto = self.transport.getHandle().sendto
        self._ticker.start(TICK, now=False)

    def stopProtocol(self) -> None:
        if self._ticker.running:
            self._ticker.stop()

    # Datagrams in.

    def datagramReceived(self, data: bytes, addr: Address) -> None:
        if not addr[1]:
            return  # port 0: nobody can be answered there
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
        parsed = parseDatagram(data, MAX_CLIENT_FRAME)
        if parsed is None or parsed[1] is None:
            return
        seq, frame = parsed
        if frame != b"C LOGIN" and not frame.startswith(b"C LOGIN "):
            return
        now = self.now()
        serverSeq = self.helloNumber(addr, seq)
        greeting = frameDatagram(serverSeq, hello("UDP"))
        self.provisional[addr] = Provisional(seq, serverSeq, now, greeting, frames={seq: frame})
        self._helloLater(addr, now + HELLO_RTO)
        self.write(greeting, addr)

    def _helloLater(self, addr: Address, due: float) -> None:
        self._order += 1
        heapq.heappush(self._helloDue, (due, self._order, addr))

    def _fromProvisional(self, addr: Address, provisional: Provisional, data: bytes) -> None:
        parsed = parseDatagram(data, MAX_CLIENT_FRAME)
        if parsed is None:
            return
        seq, frame = parsed
        if frame is None:
            if seq == provisional.serverSeq:
                self._prove(addr, provisional)
            return
        frames = provisional.frames
        if (
            0 <= seq - provisional.clientSeq < WINDOW
            and seq not in frames
            and len(frames) < PROVISIONAL_FRAMES
            and sum(map(len, frames.values())) + len(frame) <= PROVISIONAL_BYTES
        ):
            frames[seq] = frame

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
        parsed = parseDatagram(data, MAX_CLIENT_FRAME)
        if parsed is None:
            return  # garbage: dropped, the session untouched
        now = self.now()
        seq, frame = parsed
        if frame is None:
            alive = channel.link.ackReceived(seq, now)
            if channel.closing and channel.link.idle:
                self.forget(channel, None)
        else:
            alive = channel.link.frameReceived(seq, frame, now)
        if alive and not channel.forgotten:  # only real traffic keeps it open
            self._heard[channel.address] = now
            self._heard.move_to_end(channel.address)

    # Book-keeping for channels.

    def track(self, channel: UDPChannel) -> None:
        """
        The channel has frames in flight: the timer must watch it.
        """
        if not channel.forgotten and not channel.link.dead:
            self._sending.add(channel)

    def closing(self, channel: UDPChannel) -> None:
        grace = CLOSE_LIMIT if self.accepting else self.shutdownGrace
        channel.closeBy = self.now() + grace
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
        try:
            self._sweep()
        except Exception:
            # A bug of ours must not stop the one timer every session needs.
            self.log.failure("UDP timer", Failure())

    def _sweep(self) -> None:
        now = self.now()
        sending = list(self._sending)
        # Carry on next tick where the budget ran out, so nobody starves.
        start = self._rotation % max(1, len(sending))
        budget = RESENDS_PER_TICK
        for served, channel in enumerate(sending[start:] + sending[:start]):
            spent = channel.link.tick(now, budget)
            budget -= spent
            if spent and not budget:  # ran out here: the next one goes first next time
                self._rotation = start + served + 1
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
            self.write(provisional.hello, addr)
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
        cutoff = self.now() + self.shutdownGrace
        for channel in self._closing:
            channel.closeBy = min(channel.closeBy or cutoff, cutoff)
        if not self.channels:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._empty.append(waiter)

        def late() -> None:
            for channel in list(self.channels.values()):
                self.forget(channel, None)

        cut = self.clock.callLater(self.shutdownGrace + 2 * TICK, late)

        def done(result: None) -> None:
            if cut.active():
                cut.cancel()
            return result

        return waiter.addBoth(done)
