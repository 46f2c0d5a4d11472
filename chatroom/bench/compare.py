"""
chatroom and ngIRCd side by side: the same receivers, the same sender and pacing, the same
probes and the same readings from C{/proc}; only the protocol on the wire differs.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure

from chatroom.bench import ngircd
from chatroom.bench.clients import Latencies, TCPReceiver, TCPSender
from chatroom.bench.irc import CHANNEL, IRCReceiver, IRCSender
from chatroom.bench.scenarios import (
    PROBES,
    Generator,
    Result,
    _tcp,
    deliveryFigures,
    inBatches,
    sleep,
    waitUntil,
)
from chatroom.bench.server import BenchServer

#: Messages in flight at most during a curve's burst: bounded, so that no server's
#: per-client output limit (ngIRCd closes a client 32 KiB behind) decides the result.
WINDOW = 100


@dataclass(frozen=True)
class Target:
    """
    A server to measure and the clients that speak its protocol.
    """

    name: str
    server: type[BenchServer]
    receiver: Callable[[str, Latencies | None], Any]
    sender: Callable[[str], Any]
    protocol: str  # the pacer's name for it


class IRCDoorServer(BenchServer):
    """
    chatroom with its IRC door on, on the benchmark's channel; the IRC clients reach it
    through C{ports["TCP"]}, which is the IRC listener's port here.
    """

    @classmethod
    async def start(cls, reactor: Any, *options: str, accounts: bool = False) -> BenchServer:
        server = await super().start(
            reactor,
            "--irc=tcp:0:interface=127.0.0.1",
            f"--irc-channel={CHANNEL.decode()}",
            "--irc-server-name=bench",
            *options,
            accounts=accounts,
        )
        server.ports = {**server.ports, "TCP": server.ports["IRC"]}
        return server


CHATROOM = Target("chatroom", BenchServer, TCPReceiver, TCPSender, "chatroom")
NGIRCD = Target("ngircd", ngircd.NgircdServer, IRCReceiver, IRCSender, "irc")
#: chatroom's own IRC door, measured with ngIRCd's clients: the cost of the translation.
CHATROOM_IRC = Target("chatroom-irc", IRCDoorServer, IRCReceiver, IRCSender, "irc")


def skipped(scenario: str) -> Result:
    """
    The result of a run that could not happen here, saying why.
    """
    return Result(
        scenario, notes=[f"SKIPPED: {ngircd.NGIRCD} is not installed (apt-get install ngircd)"]
    )


class _Pacer(ProcessProtocol):
    def __init__(self) -> None:
        self.ready: Deferred[None] = Deferred()
        self.ended: Deferred[None] = Deferred()
        self.output = b""

    def outReceived(self, data: bytes) -> None:
        self.output += data
        if not self.ready.called and b"ready\n" in self.output:
            self.ready.callback(None)

    errReceived = outReceived

    def processEnded(self, reason: Failure) -> None:
        if not self.ready.called:
            self.ready.errback(RuntimeError(f"the pacer ended: {self.output.decode()}"))
        self.ended.callback(None)

    def seconds(self) -> float:
        """
        How long the pacer took to send, by its own clock (NaN before it has said).
        """
        for line in self.output.decode().splitlines():
            if line.startswith("sent "):
                return float(line.split()[2])
        return math.nan


async def paced(
    reactor: Any,
    target: Target,
    receivers: int,
    rate: int,
    seconds: float,
    size: int = 64,
    kind: str = "paced05",
) -> Result:
    """
    One sender, a process of its own, sends one message every C{1/rate} seconds, each in its
    own segment, to C{receivers}, for C{seconds}.

    @param kind: the scenario's name in the report.
    """
    scenario = f"{kind} {target.name}: {rate}/s one at a time to {receivers}"
    if target is NGIRCD and not ngircd.installed():
        return skipped(scenario)
    server = await target.server.start(reactor)
    pacer = _Pacer()
    process = None
    try:
        latencies = Latencies()
        people = [
            target.receiver(f"r{i}", latencies if i < PROBES else None) for i in range(receivers)
        ]
        await inBatches(reactor, people, _tcp(reactor, server.ports["TCP"]))
        count = int(rate * seconds)
        argv = [target.protocol, server.ports["TCP"], rate, count, size]
        process = reactor.spawnProcess(
            pacer,
            sys.executable,
            [sys.executable, "-m", "chatroom.bench.pacer", *map(str, argv)],
            env=None,
        )
        await pacer.ready.addTimeout(60, reactor)
        await sleep(reactor, 1.0)  # join notices drained
        for person in people:
            person.deliveries = 0
        latencies.samples.clear()
        generator = Generator()
        user, system = server.cpuTimes()
        started = time.monotonic()
        process.write(b"go\n")
        expected = count * receivers
        try:
            await waitUntil(
                reactor,
                lambda: sum(p.deliveries for p in people) >= expected,
                seconds + 10,
                "every delivery",
            )
        except TimeoutError as e:
            got = sum(p.deliveries for p in people)
            raise TimeoutError(f"{e}: {got} of {expected}; pacer: {pacer.output!r}") from None
        elapsed = time.monotonic() - started
        userAfter, systemAfter = server.cpuTimes()
        serverCpu = userAfter - user + systemAfter - system
        result = Result(scenario)
        result.figures = deliveryFigures(expected, elapsed, latencies, serverCpu, generator)
        result.figures["  user µs"] = (userAfter - user) / expected * 1e6
        result.figures["  system µs"] = (systemAfter - system) / expected * 1e6
        await waitUntil(reactor, lambda: b"sent " in pacer.output, 10, "the pacer's report")
        result.figures["sender msg/s"] = count / pacer.seconds()
        return result
    finally:
        try:
            if process is not None:
                await _stop(reactor, process, pacer)
        finally:
            await server.stop()


async def _stop(reactor: Any, process: Any, pacer: _Pacer) -> None:
    """
    Close the pacer's input, which ends it; kill it by its PID if it outstays 10 s.
    """
    process.closeStdin()
    if not pacer.ended.called:
        try:
            await pacer.ended.addTimeout(10, reactor)
        except defer.TimeoutError:
            process.signalProcess("KILL")


async def _windowed(reactor: Any, sender: Any, people: list[Any], messages: int) -> None:
    """
    Send C{messages} as fast as the server takes them, at most L{WINDOW} ahead of the
    average receiver; return once every receiver has every one.
    """
    expected = messages * len(people)
    sent = 0
    deadline = time.monotonic() + 300
    while (done := sum(p.deliveries for p in people)) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{done} of {expected} deliveries after 300 s")
        ahead = sent - done // len(people)
        if sent < messages and ahead < WINDOW:
            more = min(WINDOW - ahead, messages - sent)
            sender.burst(more, 64)
            sent += more
        await sleep(reactor, 0.001)


def curveMessages(receivers: int, deliveries: int) -> int:
    return max(20, min(5000, deliveries // receivers))


async def curve(
    reactor: Any, target: Target, steps: Sequence[int], deliveries: int = 200_000
) -> Result:
    """
    The cost curve: at each step's number of idle logged-in receivers, memory per user, then a
    burst fan-out of about C{deliveries} (windowed, see L{WINDOW}).
    """
    scenario = f"curve {target.name}"
    if target is NGIRCD and not ngircd.installed():
        return skipped(scenario)
    server = await target.server.start(reactor)
    try:
        talker = target.sender("talker")
        await inBatches(reactor, [talker], _tcp(reactor, server.ports["TCP"]))
        await sleep(reactor, 1.0)
        baseline = server.rssKiB()  # with one user in: what users add beyond that
        result = Result(scenario)
        people: list[Any] = []
        for count in steps:
            more = [
                target.receiver(f"r{i}", None if i >= PROBES else Latencies())
                for i in range(len(people), count)
            ]
            people += more
            try:
                await inBatches(reactor, more, _tcp(reactor, server.ports["TCP"]))
            except TimeoutError as error:
                gone = sum(bool(getattr(p.transport, "disconnected", True)) for p in people)
                result.notes.append(f"stopped at {count}: {error}; {gone} disconnected")
                break
            await sleep(reactor, 2.0)  # join notices drained, memory settled
            result.figures[f"KiB/user at {count}"] = (server.rssKiB() - baseline) / count
            for person in people:
                person.deliveries = 0
            messages = curveMessages(count, deliveries)
            generator = Generator()
            cpu = server.cpuSeconds()
            started = time.monotonic()
            await _windowed(reactor, talker, people, messages)
            elapsed = time.monotonic() - started
            serverCpu = server.cpuSeconds() - cpu
            total = messages * count
            result.figures[f"deliveries/s at {count}"] = total / elapsed
            result.figures[f"µs/delivery at {count}"] = serverCpu / total * 1e6
            result.figures[f"generator CPU at {count}"] = generator.share()
        return result
    finally:
        await server.stop()


#: Figures whose ratio says nothing about the servers.
NOT_COMPARED = ("deliveries", "sender msg/s")


def ratios(ours: Result, theirs: Result, names: str = "chatroom/ngircd") -> Result:
    """
    chatroom's figures over ngIRCd's (or, with C{names}, one run's over another's), for the
    figures both have.
    """
    name = ours.scenario.split(" ", 1)[0]
    first = names.split("/")[0]
    result = Result(f"{name} ratio {names} (below 1: {first} smaller)")
    if not theirs.figures:
        result.notes = [f"SKIPPED: no {names.split('/')[1]} figures to compare with"]
        return result
    for key, value in ours.figures.items():
        if key in NOT_COMPARED or key.startswith("generator") or key not in theirs.figures:
            continue
        other = theirs.figures[key]
        result.figures[key] = value / other if other else math.nan
    return result
