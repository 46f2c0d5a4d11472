"""
The load generator's clients: thousands in one process, no thread each.

They speak the real protocol but do as little as they can per message, so
that the server, not the generator, is what gets measured: receivers count
deliveries with C{bytes.count}, and only "probe" receivers parse each
message's timestamp for latency.
"""

from __future__ import annotations

import random
import socket
import time
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import ITCPTransport
from twisted.internet.protocol import DatagramProtocol, Protocol

from chatroom.sockets import IUDPPort

MARK = b"\nD PM "  # a delivered public message, at the start of a line


class Latencies:
    """
    End-to-end latencies in nanoseconds, from timestamps in messages.
    """

    def __init__(self) -> None:
        self.samples: list[int] = []

    def messages(self, lines: list[bytes]) -> None:
        now = time.monotonic_ns()
        for line in lines:
            if line.startswith(b"D PM "):
                self.samples.append(now - int(line.split(b" ", 5)[4]))


def message(size: int) -> bytes:
    """
    A pipelined public message: C{C PM}, then its text, which starts with
    the time it was sent.
    """
    stamp = b"%d " % time.monotonic_ns()
    return b"C PM\nD " + stamp + b"x" * max(1, size - len(stamp)) + b"\n"


class _Counting(Protocol):
    """
    Logs in, then counts the lines that start with C{marker}, cheaply.
    """

    marker = MARK
    transport: ITCPTransport

    def __init__(self, name: str) -> None:
        self.name = name
        self.welcomed: Deferred[None] = Deferred()
        self.count = 0
        self._tail = b"\n"

    def connectionMade(self) -> None:
        self.transport.write(b"C LOGIN %s\n" % self.name.encode())

    def dataReceived(self, data: bytes) -> None:
        if not self.welcomed.called and b"C WELCOME " in data:
            self.welcomed.callback(None)
        chunk = self._tail + data
        self.count += chunk.count(self.marker)
        # A marker split between two reads is counted once, with the tail.
        self._tail = chunk[-(len(self.marker) - 1) :]


class TCPReceiver(_Counting):
    """
    Counts the public messages it receives; a probe also times each one.
    """

    def __init__(self, name: str, latencies: Latencies | None = None) -> None:
        super().__init__(name)
        self.latencies = latencies
        self._partial = b""

    @property
    def deliveries(self) -> int:
        return self.count

    @deliveries.setter
    def deliveries(self, value: int) -> None:
        self.count = value

    def dataReceived(self, data: bytes) -> None:
        super().dataReceived(data)
        if self.latencies is not None:
            lines = (self._partial + data).split(b"\r\n")
            self._partial = lines.pop()
            self.latencies.messages(lines)


class TCPSender(_Counting):
    """
    Sends public messages, pipelined; counts their confirmations.
    """

    marker = b"\nC OK PM "

    def burst(self, count: int, size: int) -> None:
        self.transport.write(b"".join(message(size) for _ in range(count)))

    def send(self, count: int, size: int) -> None:
        for _ in range(count):
            self.transport.write(message(size))


class UDPReceiver(DatagramProtocol):
    """
    A UDP session that logs in, acknowledges every frame and counts the
    public messages it receives, each once.

    It remembers which frames it has seen as the next number it expects and
    the few that came ahead of it, not as a set of every number: thousands of
    receivers each hearing thousands of join notices would otherwise hold
    millions of numbers.
    """

    transport: IUDPPort

    def __init__(
        self, name: str, server: tuple[str, int], latencies: Latencies | None = None
    ) -> None:
        self.name = name
        self.server = server
        self.latencies = latencies
        self.welcomed: Deferred[None] = Deferred()
        self.deliveries = 0
        self.datagrams = 0
        self._expected: int | None = None  # the server's next frame in order
        self._ahead: set[int] = set()  # frames seen beyond it
        self._seq = random.randrange(2**31)
        self._login = b"%d C LOGIN %s" % (self._seq, name.encode())
        self._ping: bytes | None = None  # a keepalive not yet acknowledged

    def startProtocol(self) -> None:
        self.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.transport.write(self._login, self.server)

    def retryLogin(self) -> None:
        if not self.welcomed.called:
            self.transport.write(self._login, self.server)

    def keepAlive(self) -> None:
        """
        Send C{C PING}, as a client that has sent nothing for 15 s must
        (PROTOCOL.md section 5); one not yet acknowledged is sent again.
        """
        if self._ping is None:
            self._seq += 1
            self._ping = b"%d C PING" % self._seq
        self.transport.write(self._ping, self.server)

    def _fresh(self, seq: int) -> bool:
        """
        Whether frame C{seq} is new: each is counted once however often it comes.
        """
        if self._expected is None:
            self._expected = seq  # the HELLO, the server's first frame
        if seq < self._expected or seq in self._ahead:
            return False
        if seq > self._expected:
            self._ahead.add(seq)
            return True
        self._expected += 1
        while self._expected in self._ahead:
            self._ahead.discard(self._expected)
            self._expected += 1
        return True

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        self.datagrams += 1
        space = data.find(b" ")
        head = data[:space] if space >= 0 else data
        if head == b"A":
            if self._ping is not None and data[space + 1 :] == b"%d" % self._seq:
                self._ping = None
            return
        self.transport.write(b"A " + head, addr)
        if not self._fresh(int(head)):
            return
        frame = data[space + 1 :]
        if frame.startswith(b"D PM "):
            self.deliveries += 1
            if self.latencies is not None:
                self.latencies.messages([frame])
        elif not self.welcomed.called and frame.startswith(b"C WELCOME "):
            self.welcomed.callback(None)


class Registrant(Protocol):
    """
    Registers a new account and notes when it was welcomed.
    """

    transport: ITCPTransport

    def __init__(self, name: str) -> None:
        self.name = name
        self.welcomed: Deferred[float] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(b"C LOGIN %s\nC PASS secret-%s\n" % ((self.name.encode(),) * 2))

    def dataReceived(self, data: bytes) -> None:
        if not self.welcomed.called and b"C WELCOME " in data:
            self.welcomed.callback(time.monotonic())


class Pinger(Protocol):
    """
    Logs in, then measures PING round trips.
    """

    transport: ITCPTransport

    def __init__(self, name: str) -> None:
        self.name = name
        self.welcomed: Deferred[None] = Deferred()
        self.roundTrips: list[float] = []
        self._sent: dict[bytes, float] = {}
        self._serial = 0
        self._partial = b""

    def connectionMade(self) -> None:
        # With accounts, PASS registers; without, it is merely out of turn.
        self.transport.write(b"C LOGIN %s\nC PASS pinger-pw\n" % self.name.encode())

    def ping(self) -> None:
        self._serial += 1
        token = b"%d" % self._serial
        self._sent[token] = time.monotonic()
        self.transport.write(b"C PING " + token + b"\n")

    def dataReceived(self, data: bytes) -> None:
        lines = (self._partial + data).split(b"\r\n")
        self._partial = lines.pop()
        now = time.monotonic()
        for line in lines:
            if line.startswith(b"C WELCOME ") and not self.welcomed.called:
                self.welcomed.callback(None)
            elif line.startswith(b"C PONG "):
                sent = self._sent.pop(line[7:], None)
                if sent is not None:
                    self.roundTrips.append(now - sent)
