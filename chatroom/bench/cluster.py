"""
The cluster scenario (C{--only cluster}): two C{twistd chatroom} nodes sharing a Redis and a
PostgreSQL of the benchmark's own (Debian's C{redis-server} and PostgreSQL, each started on a
free loopback port in a temporary directory and stopped by its PID), all on this one machine.

Two questions: how long a message takes from a sender on node A to receivers on node B
(paced, so that latency is not queueing), and what fan-out costs when the receivers are split
over two nodes, against the same receivers on one node with Redis and on a plain single node
without it. CPU is counted for both nodes and Redis together (PostgreSQL's, which writes the
history, apart), and Redis's own statistics say what each script call and C{PUBLISH} costs it:
the figures the capacity model in docs/cluster.rst is worked from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.task import LoopingCall

from chatroom.bench import clusterwho, scenarios
from chatroom.bench.clients import Latencies, TCPReceiver, TCPSender
from chatroom.bench.engines import Engines, missing
from chatroom.bench.scenarios import Result, deliveryFigures, inBatches, sleep, waitUntil
from chatroom.bench.server import BenchServer

#: Every node's options beside the benchmark's own: TCP only, a shared database and Redis.
NODE_OPTIONS = ("--no-udp", "--no-web", "--node-timeout=10")

#: The benchmark's users' password (a cluster has accounts: C{--no-accounts} is refused).
PASSWORD = b"bench-password"

#: Receivers on node A in the paced run, timed apart: the same-node latency beside cross-node.
NEAR = 5


@dataclass
class ClusterPlan:
    """
    The runs of the cluster scenario.
    """

    paced: list[tuple[int, int, float]] = field(default_factory=list)  # receivers, rate, seconds
    fanout: list[tuple[int, int, int]] = field(default_factory=list)  # receivers, senders, messages
    who: list[tuple[int, int]] = field(default_factory=list)  # users present, C WHO asked


FULL = ClusterPlan(
    paced=[(50, 200, 10.0), (50, 2000, 10.0)],
    fanout=[(100, 1, 2000), (1000, 1, 500), (1000, 10, 500)],
    who=[(10_000, 200)],
)
QUICK = ClusterPlan(paced=[(10, 200, 1.0)], fanout=[(20, 1, 50)], who=[(100, 10)])


class Member(TCPReceiver):
    """
    A receiver with an account: it logs in with a password (registering the first time).
    """

    def connectionMade(self) -> None:
        self.transport.write(b"C LOGIN %s\nC PASS %s\n" % (self.name.encode(), PASSWORD))


class MemberSender(TCPSender):
    """
    A sender with an account.
    """

    def connectionMade(self) -> None:
        self.transport.write(b"C LOGIN %s\nC PASS %s\n" % (self.name.encode(), PASSWORD))


async def startNode(reactor: Any, engines: Engines) -> BenchServer:
    """
    One node, once it has joined the cluster (it listens a little before).
    """
    node = await BenchServer.start(
        reactor, f"--db={engines.db}", f"--redis={engines.redis.url}", *NODE_OPTIONS, accounts=True
    )
    try:
        await waitUntil(reactor, lambda: "cluster: node" in node.log(), 30, "the node to join")
    except BaseException:
        await node.stop()
        raise
    return node


async def quiet(reactor: Any, cpu: Callable[[], float], timeout: float = 60.0) -> None:
    """
    Wait (at most C{timeout} seconds) until the servers use less than 5% of a core: the join
    notices of a thousand logins have been delivered and cost nothing during the measurement.
    """
    deadline = time.monotonic() + timeout
    before = cpu()
    while time.monotonic() < deadline:
        await sleep(reactor, 0.5)
        now = cpu()
        if now - before < 0.025:
            return
        before = now


class Meter:
    """
    The CPU the nodes, Redis and PostgreSQL use from now on.
    """

    def __init__(self, engines: Engines, nodes: Sequence[BenchServer]) -> None:
        self.engines = engines
        self.nodes = nodes
        self.eachCpu = [n.cpuSeconds() for n in nodes]
        self.nodesCpu = sum(self.eachCpu)
        self.redisCpu = engines.redisCpu()
        self.postgresCpu = engines.postgresCpu()

    def nodeCpu(self, index: int) -> float:
        """
        CPU seconds node C{index} used since the meter started.
        """
        return self.nodes[index].cpuSeconds() - self.eachCpu[index]

    def figures(self, deliveries: int, messages: int) -> dict[str, float]:
        nodes = sum(n.cpuSeconds() for n in self.nodes) - self.nodesCpu
        redis = self.engines.redisCpu() - self.redisCpu
        postgres = sum(
            cpu - self.postgresCpu.get(pid, 0.0) for pid, cpu in self.engines.postgresCpu().items()
        )
        return {
            "server µs/delivery": (nodes + redis) / deliveries * 1e6,
            "nodes µs/delivery": nodes / deliveries * 1e6,
            "Redis µs/delivery": redis / deliveries * 1e6,
            "Redis µs/message": redis / messages * 1e6,
            "PostgreSQL µs/message": postgres / messages * 1e6,
        }


def redisFigures(stats: dict[str, float]) -> dict[str, float]:
    """
    The script calls (each public message is one, an C{EVALSHA}, or an C{EVAL} the first time
    a node runs that script) and the C{PUBLISH}es inside them.
    """
    calls = {c: stats.get(f"{c} calls", 0) for c in ("eval", "evalsha")}
    spent = sum(n * stats.get(f"{c} µs/call", 0.0) for c, n in calls.items())
    scripts = sum(calls.values())
    return {
        "script calls": scripts,
        "Redis µs/script call": spent / scripts if scripts else float("nan"),
        "PUBLISH calls": stats.get("publish calls", 0),
        "Redis µs/PUBLISH": stats.get("publish µs/call", float("nan")),
    }


async def paced(
    reactor: Any, engines: Engines, receivers: int, rate: int, seconds: float, size: int = 64
) -> Result:
    """
    A sender on node A sends C{rate} messages a second, evenly, to C{receivers} on node B (and
    L{NEAR} on node A, timed apart).
    """
    nodes = [await startNode(reactor, engines), await startNode(reactor, engines)]
    try:
        a, b = (n.ports["TCP"] for n in nodes)
        far, near = Latencies(), Latencies()
        people = [Member(f"far{i}", far) for i in range(receivers)]
        nearby = [Member(f"near{i}", near) for i in range(NEAR)]
        await inBatches(reactor, people, scenarios._tcp(reactor, b))
        await inBatches(reactor, nearby, scenarios._tcp(reactor, a))
        talker = MemberSender("pacer")
        await inBatches(reactor, [talker], scenarios._tcp(reactor, a))
        await quiet(reactor, lambda: sum(n.cpuSeconds() for n in nodes) + engines.redisCpu())
        far.samples.clear()
        near.samples.clear()
        ticks = 100  # a second
        perTick = max(1, rate // ticks)
        total = int(perTick * ticks * seconds)
        sent = 0

        def tick() -> None:
            nonlocal sent
            if sent < total:
                talker.send(perTick, size)
                sent += perTick

        await engines.resetStats()
        generator = scenarios.Generator()
        meter = Meter(engines, nodes)
        started = time.monotonic()
        pacer = LoopingCall(tick)
        pacer.clock = reactor
        pacer.start(1 / ticks)
        everyone = people + nearby
        expected = total * len(everyone)
        try:
            await waitUntil(
                reactor,
                lambda: sum(p.deliveries for p in everyone) >= expected,
                seconds + 60,
                "every delivery",
            )
        finally:
            pacer.stop()
        elapsed = time.monotonic() - started
        result = Result(f"cluster paced {rate}/s, node A to {receivers} on node B (+{NEAR} on A)")
        result.figures = deliveryFigures(expected, elapsed, far, 0.0, generator)
        result.figures.update(
            {
                "same-node p50 ms": scenarios.percentile(near.samples, 50) / 1e6,
                "same-node p99 ms": scenarios.percentile(near.samples, 99) / 1e6,
            }
        )
        result.figures.update(meter.figures(expected, total))
        result.figures.update(redisFigures(await engines.commandStats()))
        result.notes.append("p50/p99/max: node A to node B; server = both nodes + Redis")
        return result
    finally:
        for node in nodes:
            await node.stop()


async def fanOut(
    reactor: Any,
    engines: Engines,
    receivers: int,
    senders: int,
    messages: int,
    nodeCount: int,
    size: int = 64,
) -> Result:
    """
    C{senders} on node A pipeline C{messages} public messages in all to C{receivers} spread
    evenly over C{nodeCount} nodes (1 or 2), as fast as the nodes take them.
    """
    nodes = [await startNode(reactor, engines) for _ in range(nodeCount)]
    try:
        latencies = Latencies()
        people = [
            Member(f"r{i}", latencies if i < scenarios.PROBES else None) for i in range(receivers)
        ]
        for index, node in enumerate(nodes):
            await inBatches(
                reactor, people[index::nodeCount], scenarios._tcp(reactor, node.ports["TCP"])
            )
        talkers = [MemberSender(f"s{i}") for i in range(senders)]
        await inBatches(reactor, talkers, scenarios._tcp(reactor, nodes[0].ports["TCP"]))
        await quiet(reactor, lambda: sum(n.cpuSeconds() for n in nodes) + engines.redisCpu())
        for person in people:
            person.deliveries = 0
        latencies.samples.clear()
        expected = messages * receivers
        await engines.resetStats()
        generator = scenarios.Generator()
        meter = Meter(engines, nodes)
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
        where = "two nodes" if nodeCount == 2 else "one node with Redis"
        result = Result(f"cluster fan-out {receivers} TCP on {where}, {senders} sender(s)")
        result.figures = deliveryFigures(expected, elapsed, latencies, 0.0, generator)
        result.figures.update(meter.figures(expected, messages))
        if nodeCount == 2:
            # Node B has no sender: all it does is take messages from Redis and deliver them.
            received = messages * len(people[1::2])
            result.figures["receiving node µs/delivery"] = meter.nodeCpu(1) / received * 1e6
        result.figures.update(redisFigures(await engines.commandStats()))
        return result
    finally:
        for node in nodes:
            await node.stop()


def ratios(split: Result, plain: Result, receivers: int, senders: int, messages: int) -> Result:
    """
    The goals of issue 23, from one run: node B's CPU per delivery against a plain node's,
    and Redis's CPU per public message.
    """
    receiving = split.figures["receiving node µs/delivery"]
    plainCost = plain.figures["server µs/delivery"]
    result = Result(f"cluster cost ratios, {receivers} receivers, {senders} sender(s)")
    result.figures = {
        # A quick run is too short for the plain node's CPU to show.
        "receiving node / plain node": receiving / plainCost if plainCost else float("nan"),
        "Redis µs/message": split.figures["Redis µs/message"],
        # Redis's CPU is read in 10 ms ticks: its own count of the scripts' time is finer.
        "Redis script µs/message": (
            split.figures["Redis µs/script call"] * split.figures["script calls"] / messages
        ),
    }
    return result


async def run(reactor: Any, plan: ClusterPlan, each: Callable[[Result], None]) -> list[Result]:
    """
    Every run of C{plan} on engines of our own, each result handed to C{each} as it comes.
    """
    why = missing()
    if why is not None:
        skipped = Result("cluster", notes=[f"SKIPPED: {why}"])
        each(skipped)
        return [skipped]
    results: list[Result] = []

    def done(result: Result) -> None:
        results.append(result)
        each(result)

    engines = await Engines.start()
    try:
        for receivers, rate, seconds in plan.paced:
            done(await paced(reactor, engines, receivers, rate, seconds))
        for receivers, senders, messages in plan.fanout:
            split = await fanOut(reactor, engines, receivers, senders, messages, 2)
            done(split)
            done(await fanOut(reactor, engines, receivers, senders, messages, 1))
            plain = await scenarios.fanOut(reactor, receivers, 0.0, senders, messages)
            plain.scenario = (
                f"cluster fan-out {receivers} TCP on a plain node (no Redis), {senders} sender(s)"
            )
            done(plain)
            done(ratios(split, plain, receivers, senders, messages))
        for present, asked in plan.who:
            done(await clusterwho.who(reactor, engines, present, asked))
    finally:
        await engines.remove()
    return results
