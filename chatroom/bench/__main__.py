"""
C{python -m chatroom.bench [--quick] [--only NAME,...] [--json FILE]}

C{paced05} and C{curve} run Debian's ngIRCd (C{/usr/sbin/ngircd}) beside chatroom, as a child
on a free loopback port with a generated configuration, and print chatroom/ngIRCd ratios.
C{ircfanout} runs the same paced fan-out through chatroom's IRC door (C{--irc}, ngIRCd's
clients) beside its TCP door, and prints IRC/TCP ratios.
C{cluster} runs two nodes on a Redis and a PostgreSQL of its own (C{chatroom.bench.cluster}).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import sys
from typing import Any, TypedDict

from chatroom.bench import cluster, compare, ngircd, scenarios, web
from chatroom.bench.scenarios import Result


class Plan(TypedDict):
    """
    The runs of each scenario: its arguments after the reactor, one tuple a run.
    """

    fanout: list[tuple[int, float, int, int]]  # receivers, UDP share, senders, messages
    paced: list[tuple[int, int, float]]  # receivers, messages a second, seconds
    memory: list[tuple[int, ...]]  # one run: the session counts to measure at
    storm: list[int]  # registrations
    loss: list[tuple[int, int]]  # receivers, messages
    paced05: list[tuple[int, int, float]]  # receivers, messages a second, seconds; both servers
    curve: list[tuple[int, ...]]  # one run a server: the receiver counts to measure at
    webfanout: list[tuple[int, int, int]]  # WebSocket receivers, TCP senders, messages
    ircfanout: list[tuple[int, int, float]]  # receivers, messages a second, seconds; TCP and IRC
    cluster: cluster.ClusterPlan  # two nodes, Redis and PostgreSQL of its own
    dtls: list[tuple[int, int, int]]  # UDP receivers, messages, UDP registrations


FULL: Plan = {
    "fanout": [
        (100, 0.0, 1, 2000),
        (100, 0.0, 10, 2000),
        (1000, 0.0, 1, 500),
        (1000, 0.0, 10, 500),
        (100, 1.0, 1, 1000),
        (1000, 1.0, 1, 200),
        (1000, 0.5, 10, 300),
    ],
    "paced": [(50, 2000, 10.0)],
    "memory": [(1000, 5000)],
    "storm": [200],
    "loss": [(20, 1000)],
    "paced05": [(50, 2000, 10.0)],
    "curve": [(10, 100, 1000, 5000)],
    "webfanout": [(100, 1, 2000), (1000, 1, 500)],  # beside fanout's TCP runs
    "ircfanout": [(50, 2000, 10.0), (500, 200, 10.0)],
    "cluster": cluster.FULL,
    "dtls": [(100, 1000, 200), (1000, 200, 200)],
}

QUICK: Plan = {
    "fanout": [(20, 0.0, 1, 50), (20, 1.0, 2, 20), (20, 0.5, 1, 20)],
    "paced": [(10, 200, 1.0)],
    "memory": [(50, 100)],
    "storm": [10],
    "loss": [(5, 50)],
    "paced05": [(5, 200, 1.0)],
    "curve": [(3, 10)],
    "webfanout": [(20, 1, 50)],
    "ircfanout": [(5, 200, 1.0)],
    "cluster": cluster.QUICK,
    "dtls": [(10, 20, 5)],
}


#: Deliveries per step of the cost curve, quick and full.
CURVE_DELIVERIES = (200, 200_000)


def machine() -> str:
    cpus = os.cpu_count()
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {cpus} cores, Python {platform.python_version()}, {platform.system()}"


def show(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if value >= 1000:
            return f"{value:,.0f}"
        if value < 1:
            return f"{value:.2f}"
        return f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def report(results: list[Result]) -> str:
    lines = []
    for result in results:
        if not result.figures and len(result.notes) == 1:
            lines.append(f"{result.scenario}: {result.notes[0]}")  # one line: SKIPPED and why
            continue
        lines.append(result.scenario)
        for key, value in result.figures.items():
            lines.append(f"    {key:<28} {show(value):>14}")
            if key == "generator CPU" and value > 0.9:
                lines.append("    (the load generator was saturated: the server may be faster)")
        lines.extend(f"    note: {note}" for note in result.notes)
    return "\n".join(lines)


async def run(reactor: Any, plan: Plan, only: set[str] | None) -> list[Result]:
    results = []

    def wanted(name: str) -> bool:
        return only is None or name in only

    if wanted("fanout"):
        for receivers, udp, senders, messages in plan["fanout"]:
            results.append(await scenarios.fanOut(reactor, receivers, udp, senders, messages))
            print(report(results[-1:]), flush=True)
    if wanted("webfanout"):
        for receivers, senders, messages in plan["webfanout"]:
            results.append(await web.webFanOut(reactor, receivers, senders, messages))
            print(report(results[-1:]), flush=True)
    if wanted("paced"):
        for receivers, rate, seconds in plan["paced"]:
            results.append(await scenarios.paced(reactor, receivers, rate, seconds))
            print(report(results[-1:]), flush=True)
    if wanted("memory"):
        for steps in plan["memory"]:
            for transport in ("TCP", "UDP"):
                results.append(await scenarios.memory(reactor, steps, transport))
                print(report(results[-1:]), flush=True)
    if wanted("storm"):
        for count in plan["storm"]:
            results.append(await scenarios.loginStorm(reactor, count))
            print(report(results[-1:]), flush=True)
    if wanted("loss"):
        for receivers, messages in plan["loss"]:
            results.append(await scenarios.udpLoss(reactor, receivers, messages))
            print(report(results[-1:]), flush=True)
    if wanted("paced05"):
        for receivers, rate, seconds in plan["paced05"]:
            pair = [
                await compare.paced(reactor, target, receivers, rate, seconds)
                for target in (compare.CHATROOM, compare.NGIRCD)
            ]
            results.extend([*pair, compare.ratios(pair[0], pair[1])])
            print(report(results[-3:]), flush=True)
    if wanted("ircfanout"):
        for receivers, rate, seconds in plan["ircfanout"]:
            pair = [
                await compare.paced(reactor, target, receivers, rate, seconds, kind="ircfanout")
                for target in (compare.CHATROOM_IRC, compare.CHATROOM)
            ]
            results.extend([*pair, compare.ratios(pair[0], pair[1], names="irc/tcp")])
            print(report(results[-3:]), flush=True)
    if wanted("curve"):
        for steps in plan["curve"]:
            pair = []
            for target in (compare.CHATROOM, compare.NGIRCD):
                pair.append(
                    await compare.curve(reactor, target, steps, CURVE_DELIVERIES[plan is FULL])
                )
                print(report(pair[-1:]), flush=True)
            results.extend([*pair, compare.ratios(pair[0], pair[1])])
            print(report(results[-1:]), flush=True)
    if wanted("dtls"):
        from chatroom.bench import dtls

        for receivers, messages, _ in plan["dtls"]:
            for result in await dtls.dtlsFanOut(reactor, receivers, messages):
                results.append(result)
                print(report([result]), flush=True)
        for registrations in sorted({r for _, _, r in plan["dtls"]}):
            for result in await dtls.dtlsLoginStorm(reactor, registrations):
                results.append(result)
                print(report([result]), flush=True)
    if wanted("cluster"):
        results.extend(
            await cluster.run(reactor, plan["cluster"], lambda r: print(report([r]), flush=True))
        )
    return results


def save(path: str, results: list[Result]) -> None:
    """
    The figures as JSON, for comparing runs.
    """
    with open(path, "w") as out:
        json.dump(
            {
                "machine": machine(),
                "results": [
                    {"scenario": r.scenario, "figures": r.figures, "notes": r.notes}
                    for r in results
                ],
            },
            out,
            indent=2,
        )


def plain(docstring: str) -> str:
    """
    An epytext docstring as plain text for C{--help}: C{C{x}} and its kin are shown as C{x}.
    """
    return re.sub(r"\b[BCILMU]\{([^{}]*)\}", r"\1", docstring)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chatroom.bench",
        description=plain(__doc__ or ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument(
        "--only",
        help="comma-separated scenarios: fanout, webfanout, paced, memory, storm, loss, paced05,"
        " curve (these two run chatroom and ngIRCd side by side), ircfanout (chatroom's IRC"
        " door beside its TCP door), cluster (two nodes on a"
        " Redis and a PostgreSQL of its own)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    # Thousands of clients here; the server, a child, inherits the same limit.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    from twisted.internet import defer, task

    plan = QUICK if args.quick else FULL
    only = set(args.only.split(",")) if args.only else None
    print(f"chatroom benchmark on {machine()}", flush=True)
    if ngircd.installed():
        print(f"compared with {ngircd.version()}", flush=True)
    results: list[Result] = []

    async def body(reactor: Any) -> None:
        results.extend(await run(reactor, plan, only))
        if args.json:
            save(args.json, results)

    task.react(lambda reactor: defer.Deferred.fromCoroutine(body(reactor)))
    return 0  # react exits; kept for the type checker


if __name__ == "__main__":
    sys.exit(main())
