"""
The benchmark's scenarios. Each starts a fresh server, drives it over
loopback and returns its figures; every wait is bounded.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.task import LoopingCall, deferLater

from chatroom.bench.clients import (
    Latencies,
    Pinger,
    Registrant,
    TCPReceiver,
    TCPSender,
    UDPReceiver,
)
from chatroom.bench.lossproxy import LossProxy
from chatroom.bench.server import BenchServer

PROBES = 10  # receivers that time every message they get


@dataclass
class Result:
    scenario: str
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def percentile(samples: Sequence[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Generator:
    """
    The load generator's own CPU use, to tell when it, not the server, is
    the bottleneck.
    """

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.cpu = self._cpu()

    @staticmethod
    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def share(self) -> float:
        """
        Fraction of one core used since creation.
        """
        return (self._cpu() - self.cpu) / max(1e-9, time.monotonic() - self.start)


def deliveryFigures(
    deliveries: int, elapsed: float, latencies: Latencies, serverCpu: float, generator: Generator
) -> dict[str, Any]:
    """
    Throughput, latency and cost of a run that delivered C{deliveries}.
    """
    return {
        "deliveries": deliveries,
        "deliveries/s": deliveries / elapsed,
        "p50 ms": percentile(latencies.samples, 50) / 1e6,
        "p99 ms": percentile(latencies.samples, 99) / 1e6,
        "max ms": max(latencies.samples, default=float("nan")) / 1e6,
        "server µs/delivery": serverCpu / deliveries * 1e6,
        "generator CPU": generator.share(),
    }


async def sleep(reactor: Any, seconds: float) -> None:
    await deferLater(reactor, seconds, lambda: None)


async def waitUntil(reactor: Any, done: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        await sleep(reactor, 0.005)


async def connect(reactor: Any, port: int, protocol: Any) -> Any:
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=30)
    return await connectProtocol(endpoint, protocol)


async def inBatches(reactor: Any, clients: list[Any], start: Callable[[Any], Any]) -> None:
    """
    Start clients a hundred at a time and wait for each batch's welcome, so
    that setting up thousands does not overflow the listen backlog.
    """
    for first in range(0, len(clients), 100):
        batch = clients[first : first + 100]
        await gatherResults([Deferred.fromCoroutine(start(c)) for c in batch])
        deadline = time.monotonic() + 60
        while not all(c.welcomed.called for c in batch):
            if time.monotonic() > deadline:
                raise TimeoutError("clients were not welcomed within 60 s")
            await sleep(reactor, 0.5)
            for client in batch:
                if isinstance(client, UDPReceiver):
                    client.retryLogin()  # a lost LOGIN or HELLO, perhaps


def _udp(reactor: Any, server: tuple[str, int]) -> Callable[[UDPReceiver], Any]:
    async def start(receiver: UDPReceiver) -> None:
        reactor.listenUDP(0, receiver, interface="127.0.0.1", maxPacketSize=65535)

    return start


def _tcp(reactor: Any, port: int) -> Callable[[Any], Any]:
    async def start(client: Any) -> None:
        await connect(reactor, port, client)

    return start


async def fanOut(
    reactor: Any, receivers: int, udpShare: float, senders: int, messages: int, size: int = 64
) -> Result:
    """
    C{senders} pipeline C{messages} public messages in all, as fast as the
    protocol allows, to C{receivers} (C{udpShare} of them over UDP).
    """
    server = await BenchServer.start(reactor)
    try:
        latencies = Latencies()
        udpCount = round(receivers * udpShare)
        addr = ("127.0.0.1", server.ports["UDP"])
        people: list[Any] = [
            UDPReceiver(f"u{i}", addr, latencies if i < PROBES else None) for i in range(udpCount)
        ] + [
            TCPReceiver(f"t{i}", latencies if i < PROBES else None)
            for i in range(receivers - udpCount)
        ]
        await inBatches(
            reactor, [p for p in people if isinstance(p, UDPReceiver)], _udp(reactor, addr)
        )
        tcpPeople = [p for p in people if isinstance(p, TCPReceiver)]
        await inBatches(reactor, tcpPeople, _tcp(reactor, server.ports["TCP"]))
        transport = {0.0: "TCP", 1.0: "UDP"}.get(udpShare, "half")
        result = Result(f"fan-out {receivers} {transport}, {senders} sender(s)")
        result.figures = await burst(reactor, server, people, latencies, senders, messages, size)
        return result
    finally:
        await server.stop()


async def burst(
    reactor: Any,
    server: BenchServer,
    people: Sequence[Any],
    latencies: Latencies,
    senders: int,
    messages: int,
    size: int,
) -> dict[str, Any]:
    """
    The burst every fan-out measures, whatever its receivers speak: C{senders} TCP users
    pipeline C{messages} public messages in all, and each of C{people} (logged in already)
    gets every one.
    """
    talkers = [TCPSender(f"s{i}") for i in range(senders)]
    await inBatches(reactor, talkers, _tcp(reactor, server.ports["TCP"]))
    await sleep(reactor, 1.0)  # let the join notices drain
    for person in people:
        person.deliveries = 0
    latencies.samples.clear()
    expected = messages * len(people)
    generator = Generator()
    cpu = server.cpuSeconds()
    started = time.monotonic()
    for talker in talkers:
        talker.burst(messages // senders, size)
    await waitUntil(
        reactor,
        lambda: sum(p.deliveries for p in people) >= expected,
        300,
        "every delivery",
    )
    elapsed = time.monotonic() - started
    serverCpu = server.cpuSeconds() - cpu
    return deliveryFigures(expected, elapsed, latencies, serverCpu, generator)


async def paced(reactor: Any, receivers: int, rate: int, seconds: float, size: int = 64) -> Result:
    """
    One sender sends C{rate} messages a second, evenly, to C{receivers}.
    """
    server = await BenchServer.start(reactor)
    try:
        latencies = Latencies()
        people = [TCPReceiver(f"t{i}", latencies) for i in range(receivers)]
        await inBatches(reactor, people, _tcp(reactor, server.ports["TCP"]))
        talker = TCPSender("pacer")
        await inBatches(reactor, [talker], _tcp(reactor, server.ports["TCP"]))
        await sleep(reactor, 0.5)
        latencies.samples.clear()
        ticks = 100  # a second
        perTick = rate // ticks
        total = int(perTick * ticks * seconds)
        sent = 0

        def tick() -> None:
            nonlocal sent
            if sent < total:
                talker.send(perTick, size)
                sent += perTick

        generator = Generator()
        cpu = server.cpuSeconds()
        started = time.monotonic()
        pacer = LoopingCall(tick)
        pacer.clock = reactor
        pacer.start(1 / ticks)
        expected = total * receivers
        await waitUntil(
            reactor,
            lambda: sum(p.deliveries for p in people) >= expected,
            seconds + 60,
            "every delivery",
        )
        pacer.stop()
        elapsed = time.monotonic() - started
        serverCpu = server.cpuSeconds() - cpu
        result = Result(f"paced {rate * receivers:,} deliveries/s ({rate}/s to {receivers})")
        result.figures = deliveryFigures(expected, elapsed, latencies, serverCpu, generator)
        return result
    finally:
        await server.stop()


#: How often idle UDP receivers send C{C PING}: within the protocol's 15 s.
KEEPALIVE = 10.0


async def settled(
    reactor: Any, people: Sequence[Any], rest: float = 2.0, timeout: float = 600
) -> None:
    """
    Wait until the join notices have drained: for UDP, until no receiver has
    had a datagram for a second (each notice is a datagram and its
    retransmissions); then C{rest} seconds more for memory to settle.
    """
    udp = [p for p in people if isinstance(p, UDPReceiver)]
    deadline = time.monotonic() + timeout
    before, heard = -1, sum(p.datagrams for p in udp)
    while heard != before:
        if time.monotonic() > deadline:
            raise TimeoutError(f"UDP receivers still hear join notices after {timeout:.0f} s")
        await sleep(reactor, 1.0)
        before, heard = heard, sum(p.datagrams for p in udp)
    await sleep(reactor, rest)


async def memory(reactor: Any, steps: Sequence[int], transport: str = "TCP") -> Result:
    """
    The server's resident memory with more and more idle logged-in sessions,
    all over C{transport} ("TCP" or "UDP"); UDP ones send C{C PING} every
    L{KEEPALIVE} seconds, as the protocol requires of an idle client.

    UDP receivers log in a hundred at a time, each hundred once the notices
    of the one before have drained: one load generator cannot acknowledge
    12.5 million notices as fast as 5,000 logins make them, and the server
    rightly drops sessions whose queue overflows, which would leave fewer
    sessions than counted. C{sessions lost} says how many left all the same.

    Per session: the growth of the server's RSS since it had one session
    (logged in, so that what the first login loads once, such as the
    confusables data, is not counted as every user's), divided
    by the sessions added, once every join notice has been delivered.
    """
    server = await BenchServer.start(reactor)
    people: list[Any] = []
    udp = transport == "UDP"

    def ping() -> None:
        for person in people if udp else ():
            if person.welcomed.called:
                person.keepAlive()

    keepAlive = LoopingCall(ping)
    keepAlive.clock = reactor
    addr = ("127.0.0.1", server.ports["UDP"])

    def newcomers(count: int) -> list[Any]:
        if udp:
            return [UDPReceiver(f"idle{i}", addr) for i in range(len(people), count)]
        return [TCPReceiver(f"idle{i}") for i in range(len(people), count)]

    start = _udp(reactor, addr) if udp else _tcp(reactor, server.ports["TCP"])
    try:
        keepAlive.start(KEEPALIVE, now=False)
        people += newcomers(1)
        await inBatches(reactor, people, start)
        await settled(reactor, people)
        baseline = server.rssKiB()
        figures: dict[str, Any] = {"RSS KiB, 1 session": baseline}
        for count in steps:
            more = newcomers(count + 1)
            size = 100 if udp else max(1, len(more))
            for first in range(0, len(more), size):
                batch = more[first : first + size]
                await inBatches(reactor, batch, start)
                people += batch
                await settled(reactor, people, rest=0.0)
            await settled(reactor, people)
            rss = server.rssKiB()
            figures[f"RSS KiB, 1 + {count} sessions"] = rss
            figures[f"KiB/session at {count}"] = (rss - baseline) / count
            figures[f"bytes/session at {count}"] = (rss - baseline) * 1024 / count
            figures[f"sessions lost at {count}"] = server.log().count(" has left the chat.")
        result = Result(f"memory, idle {transport} sessions")
        result.figures = figures
        return result
    finally:
        if keepAlive.running:
            keepAlive.stop()
        for person in people:
            if isinstance(person, UDPReceiver) and person.transport is not None:
                person.transport.stopListening()
        await server.stop()


async def loginStorm(reactor: Any, registrations: int) -> Result:
    """
    C{registrations} new accounts at once (real argon2id hashing), while
    another user measures PING round trips.
    """
    server = await BenchServer.start(reactor, accounts=True)
    try:
        pinger = Pinger("pinger")
        await connect(reactor, server.ports["TCP"], pinger)
        await pinger.welcomed.addTimeout(30, reactor)
        pings = LoopingCall(pinger.ping)
        pings.clock = reactor
        pings.start(0.01)
        await sleep(reactor, 0.5)
        quiet = list(pinger.roundTrips)
        pinger.roundTrips.clear()
        started = time.monotonic()
        storm = [Registrant(f"storm{i}") for i in range(registrations)]
        await gatherResults(
            [Deferred.fromCoroutine(connect(reactor, server.ports["TCP"], r)) for r in storm]
        )
        welcomed = await gatherResults([r.welcomed for r in storm]).addTimeout(300, reactor)
        pings.stop()
        during = pinger.roundTrips
        result = Result(f"login storm, {registrations} registrations")
        result.figures = {
            "all welcomed s": max(welcomed) - started,
            "PING p50 ms (quiet)": percentile(quiet, 50) * 1e3,
            "PING p50 ms": percentile(during, 50) * 1e3,
            "PING p99 ms": percentile(during, 99) * 1e3,
            "PING max ms": max(during, default=float("nan")) * 1e3,
        }
        return result
    finally:
        await server.stop()


async def udpLoss(reactor: Any, receivers: int, messages: int, loss: float = 0.1) -> Result:
    """
    UDP receivers behind a relay that loses C{loss} of datagrams each way.
    """
    server = await BenchServer.start(reactor)
    proxy = LossProxy(reactor, ("127.0.0.1", server.ports["UDP"]), loss)
    port = reactor.listenUDP(0, proxy, interface="127.0.0.1")
    try:
        via = ("127.0.0.1", port.getHost().port)
        people = [UDPReceiver(f"u{i}", via) for i in range(receivers)]
        await inBatches(reactor, people, _udp(reactor, via))
        talker = TCPSender("sender")
        await inBatches(reactor, [talker], _tcp(reactor, server.ports["TCP"]))
        await sleep(reactor, 1.0)
        for person in people:
            person.deliveries = 0
        framesBefore, uniqueBefore = proxy.serverFrames, len(proxy.uniqueFrames)
        started = time.monotonic()
        talker.burst(messages, 64)
        expected = messages * receivers
        await waitUntil(
            reactor, lambda: sum(p.deliveries for p in people) >= expected, 300, "every delivery"
        )
        elapsed = time.monotonic() - started
        frames = proxy.serverFrames - framesBefore
        unique = len(proxy.uniqueFrames) - uniqueBefore
        result = Result(f"UDP, {loss:.0%} loss each way, {receivers} receivers")
        result.figures = {
            "deliveries": expected,
            "goodput deliveries/s": expected / elapsed,
            "retransmitted %": (frames / max(1, unique) - 1) * 100,
        }
        return result
    finally:
        proxy.close()
        await server.stop()
