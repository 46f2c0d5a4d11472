"""
The UDP socket's protocol: it routes each datagram to its handshake or its session, keeps
the table of proven sessions with their idle times, and runs the shared timer's phases.
It also shuts UDP down: no new sessions, and a bounded wait for the goodbyes.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from chatroom.codec import MAX_CLIENT_FRAME, Reason
from chatroom.datagrams import parseDatagram
from chatroom.pipeline import IDoorway
from chatroom.sockets import IUDPPort
from chatroom.udp.channel import UDPChannel
from chatroom.udp.handshake import Address, Handshakes, Provisional
from chatroom.udp.ticker import Ticker
from chatroom.udp.timings import UDPTimings
from chatroom.window import SendWindow


class ChatDatagramProtocol(DatagramProtocol):
    """
    Every UDP session of the room, on one socket, driven by one timer.

    Once proven, a session joins the room (through its L{IDoorway}) like
    any TCP client; every chat rule stays there.
    """

    log = Logger()
    transport: IUDPPort  # from startProtocol on, the only place that uses it
    #: Plain UDP: a password crosses the network in clear. A door that runs
    #: this table inside encryption (DTLS) sets it, for every session's
    #: L{UDPChannel.encrypted}.
    encrypted = False

    def __init__(
        self,
        service: IDoorway,
        clock: IReactorTime,
        timings: UDPTimings | None = None,
        secret: bytes | None = None,
        released: Callable[[Address], None] | None = None,
    ) -> None:
        """
        @param released: told each address whose session was forgotten (the
            DTLS door ends the association that carried it).
        """
        self.service = service
        self.released = released
        self.clock = clock
        self.timings = timings = timings or UDPTimings()
        self.handshakes = Handshakes(secret or os.urandom(16), timings)
        self.channels: dict[Address, UDPChannel] = {}
        self.sendWindow = SendWindow()  # every channel's, shared as they come and go
        self._heard: OrderedDict[Address, float] = OrderedDict()  # oldest first
        self._sending: set[UDPChannel] = set()  # channels with frames in flight
        self._closing: set[UDPChannel] = set()
        self._empty: list[Deferred[None]] = []
        self._rotation = 0
        self.accepting = True
        self.ticker = Ticker(
            clock,
            timings.tick,
            [
                ("retransmissions", self._resend),
                ("closing deadlines", self._closeDeadlines),
                ("HELLO resends", self._resendHellos),
                ("provisional expiry", self.handshakes.expire),
                ("idle timeouts", self._idleTimeouts),
            ],
        )

    def now(self) -> float:
        return self.clock.seconds()

    def write(self, datagram: bytes, addr: Address) -> None:
        """
        Send a datagram; one that cannot be sent now (a full socket buffer,
        a refused or impossible address) is simply lost, as datagrams may
        be: the reliability layer sends it again.
        """
        try:  # noqa: SIM105 - every datagram goes through here: a with block costs more
            self._sendto(datagram, addr)
        except OSError:
            pass

    def startProtocol(self) -> None:
        # Straight to the socket: Port.write would check, three times per
        # datagram, addresses that came from the kernel in the first place.
        self._sendto = self.transport.getHandle().sendto
        self.ticker.start()

    def stopProtocol(self) -> None:
        self.ticker.stop()

    # Datagrams in.

    def datagramReceived(self, data: bytes, addr: Address) -> None:
        if not addr[1]:
            return  # port 0: nobody can be answered there
        channel = self.channels.get(addr)
        if channel is not None:
            parsed = parseDatagram(data, MAX_CLIENT_FRAME)
            if parsed is None:
                return  # garbage: dropped, the session untouched
            now = self.clock.seconds()
            if channel.received(parsed[0], parsed[1], now):  # only real traffic keeps it open
                # The channel's own key: found by identity, where the socket's
                # new tuple would be compared field by field, twice a datagram.
                addr = channel.address
                self._heard[addr] = now
                self._heard.move_to_end(addr)
        elif addr in self.handshakes:
            proven = self.handshakes.follow(addr, data)
            if proven is not None:
                self._prove(addr, proven)
        elif self.accepting:
            greeting = self.handshakes.begin(addr, data, self.now())
            if greeting is not None:
                self.write(greeting, addr)

    def _prove(self, addr: Address, provisional: Provisional) -> None:
        """
        The client acknowledged our HELLO: the session is real now.
        """
        now = self.now()
        channel = UDPChannel(self, addr, provisional.serverSeq + 1, provisional.clientSeq, now)
        self.channels[addr] = channel
        self.sendWindow.share(len(self.channels), self.timings.inFlightBudget)
        self._heard[addr] = now
        channel.open(self.service)
        for seq in sorted(provisional.frames):
            channel.received(seq, provisional.frames[seq], now)

    # The session table, as the channels see it (see ChannelHost).

    def track(self, channel: UDPChannel) -> None:
        self._sending.add(channel)

    def untrack(self, channel: UDPChannel) -> None:
        self._sending.discard(channel)

    def closeGrace(self) -> float:
        return self.timings.closeLimit if self.accepting else self.timings.shutdownGrace

    def watchClosing(self, channel: UDPChannel) -> None:
        self._closing.add(channel)

    def release(self, channel: UDPChannel) -> None:
        del self.channels[channel.address]
        self.sendWindow.share(len(self.channels), self.timings.inFlightBudget)
        self._heard.pop(channel.address, None)
        self._sending.discard(channel)
        self._closing.discard(channel)
        if self.released is not None:
            self.released(channel.address)
        if not self.channels:
            empty, self._empty = self._empty, []
            for waiter in empty:
                waiter.callback(None)

    # The timer's phases.

    def _resend(self, now: float) -> None:
        """
        Let every channel with frames in flight resend what is due, all of
        them together at most L{UDPTimings.resendsPerTick} frames a tick.
        """
        sending = list(self._sending)
        # Carry on next tick where the budget ran out, so nobody starves.
        start = self._rotation % max(1, len(sending))
        budget = self.timings.resendsPerTick
        for served, channel in enumerate(sending[start:] + sending[:start]):
            spent = channel.tick(now, budget)
            budget -= spent
            if spent and not budget:  # ran out here: the next one goes first next time
                self._rotation = start + served + 1

    def _closeDeadlines(self, now: float) -> None:
        for channel in list(self._closing):
            channel.deadline(now)

    def _resendHellos(self, now: float) -> None:
        for datagram, addr in self.handshakes.resend(now):
            self.write(datagram, addr)

    def _idleTimeouts(self, now: float) -> None:
        idleTimeout = self.timings.idleTimeout
        while self._heard:
            addr, heard = next(iter(self._heard.items()))
            if heard + idleTimeout > now:
                break
            channel = self.channels[addr]
            self.log.info("UDP session {peer} went silent", peer=channel.peer)
            channel.forget(Reason.TIMEOUT)

    # Shutting down.

    def shutDown(self) -> Deferred[None]:
        """
        Stop taking new sessions; fire once every session is gone (the chat
        service says BYE to each) or after L{UDPTimings.shutdownGrace},
        whichever is first.
        """
        self.accepting = False
        self.handshakes.clear()
        grace = self.timings.shutdownGrace
        cutoff = self.now() + grace
        for channel in self._closing:
            channel.hurry(cutoff)
        if not self.channels:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._empty.append(waiter)

        def late() -> None:
            for channel in list(self.channels.values()):
                channel.forget()

        cut = self.clock.callLater(grace + 2 * self.timings.tick, late)

        def done(result: None) -> None:
            if cut.active():
                cut.cancel()
            return result

        return waiter.addBoth(done)
