"""
The HELLO handshake: the table of provisional UDP sessions and every decision about them.
It does no I/O and reads no clock: given datagrams and the time, it answers with the
datagrams to send and the sessions that proved their address.

A session starts I{provisional}: the server answers the first datagram with
C{C HELLO} alone and neither acknowledges nor handles anything until the
client acknowledges that HELLO, which only a client really receiving at that
address can do. So spoofed datagrams cannot reserve names, fill memory, or
make the server an amplifier.
"""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass, field

from chatroom.codec import MAX_CLIENT_FRAME, hello, verbOf
from chatroom.datagrams import frameDatagram, parseDatagram
from chatroom.udp.timings import UDPTimings
from chatroom.window import WINDOW

Address = tuple[str, int]

#: Provisional sessions remembered at once; first datagrams beyond that are
#: ignored until some expire.
PROVISIONAL_LIMIT = 1024
#: What a provisional session keeps of its frames; the client resends the
#: rest (nothing was acknowledged). 1024 of them hold at most 8 MiB.
PROVISIONAL_FRAMES = 8
PROVISIONAL_BYTES = 8 * 1024


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


class Handshakes:
    """
    Every provisional session, in order of arrival, and when to repeat its HELLO.

    @param secret: keys the server's first numbers (see L{helloNumber}).
    """

    def __init__(self, secret: bytes, timings: UDPTimings) -> None:
        self._secret = secret
        self.timings = timings
        self.provisional: dict[Address, Provisional] = {}  # in order of arrival
        self._helloDue: list[tuple[float, int, Address]] = []  # a heap
        self._order = 0

    def __contains__(self, addr: Address) -> bool:
        return addr in self.provisional

    def __len__(self) -> int:
        return len(self.provisional)

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

    def begin(self, addr: Address, data: bytes, now: float) -> bytes | None:
        """
        A datagram from an address we know nothing of.

        @return: the HELLO datagram to answer with, if it is a numbered
            C{C LOGIN} and there is room; otherwise L{None} (ignore it).
        """
        if len(self.provisional) >= PROVISIONAL_LIMIT:
            return None
        parsed = parseDatagram(data, MAX_CLIENT_FRAME)
        if parsed is None:
            return None
        seq, frame = parsed
        if frame is None or verbOf(frame) != "LOGIN":
            return None  # an ack, or not a login
        serverSeq = self.helloNumber(addr, seq)
        greeting = frameDatagram(serverSeq, hello("UDP"))
        self.provisional[addr] = Provisional(seq, serverSeq, now, greeting, frames={seq: frame})
        self._helloLater(addr, now + self.timings.helloRTO)
        return greeting

    def follow(self, addr: Address, data: bytes) -> Provisional | None:
        """
        A datagram from a provisional session: keep a little of its frames,
        unacknowledged, until it acknowledges our HELLO.

        @return: the session, out of the table, once it did: proven real.
        """
        provisional = self.provisional.get(addr)
        if provisional is None:
            return None
        parsed = parseDatagram(data, MAX_CLIENT_FRAME)
        if parsed is None:
            return None
        seq, frame = parsed
        if frame is None:
            if seq != provisional.serverSeq:
                return None
            del self.provisional[addr]
            return provisional
        frames = provisional.frames
        if (
            0 <= seq - provisional.clientSeq < WINDOW
            and seq not in frames
            and len(frames) < PROVISIONAL_FRAMES
            and sum(map(len, frames.values())) + len(frame) <= PROVISIONAL_BYTES
        ):
            frames[seq] = frame
        return None

    def _helloLater(self, addr: Address, due: float) -> None:
        self._order += 1
        heapq.heappush(self._helloDue, (due, self._order, addr))

    def resend(self, now: float) -> list[tuple[bytes, Address]]:
        """
        The HELLOs due again by C{now}, each at most L{UDPTimings.helloRetries}
        times, the timer doubling each time.
        """
        retries = self.timings.helloRetries
        out = []
        while self._helloDue and self._helloDue[0][0] <= now:
            _, _, addr = heapq.heappop(self._helloDue)
            provisional = self.provisional.get(addr)
            if provisional is None or provisional.hellos > retries:
                continue
            provisional.hellos += 1
            out.append((provisional.hello, addr))
            if provisional.hellos <= retries:
                self._helloLater(addr, now + self.timings.helloRTO * 2 ** (provisional.hellos - 1))
        return out

    def expire(self, now: float) -> None:
        """
        Forget the provisional sessions older than their lifetime.
        """
        lifetime = self.timings.provisionalLifetime
        while self.provisional:
            addr, provisional = next(iter(self.provisional.items()))
            if provisional.began + lifetime > now:
                break
            del self.provisional[addr]

    def clear(self) -> None:
        self.provisional.clear()
        self._helloDue.clear()
