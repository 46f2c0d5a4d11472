"""
The real-server process helpers that the benchmark and the tests share: a server starts
without blocking the reactor, its ports come from its own listening lines, and every wait
to start or stop it is bounded, ending with SIGKILL to the PID it started.
"""

from __future__ import annotations

import re
import signal
import socket
import sys
from pathlib import Path

import pytest
import pytest_twisted
from helpers.wire import WAIT
from helpers.wire import ServerProcess as BlockingServerProcess

from chatroom.bench.server import BenchServer
from chatroom.bench.serverprocess import ServerDidNotStart, ServerProcess, twistdArgv


def fake(*lines: str, ignoreTerm: bool = False) -> list[str]:
    """
    A stand-in for a server: prints its PID and C{lines}, then sleeps (deaf to SIGTERM if
    asked).
    """
    code = [
        "import os, signal, sys, time",
        "print('pid', os.getpid(), flush=True)",
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)" if ignoreTerm else "",
        *(f"print({line!r}, flush=True)" for line in lines),
        "time.sleep(120)",
    ]
    return [sys.executable, "-c", "\n".join(code)]


LISTENS = (
    "2024-01-01T00:00:00+0000 [chatroom#info] chatroom listening for TCP on 127.0.0.1:4321",
    "2024-01-01T00:00:00+0000 [chatroom#info] chatroom listening for UDP on 127.0.0.1:4322",
)


def pidIn(log: str) -> int:
    found = re.search(r"^pid (\d+)$", log, re.MULTILINE)
    assert found, log
    return int(found.group(1))


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest_twisted.ensureDeferred
async def test_a_real_server_starts_without_blocking_the_reactor(tmp_path: Path) -> None:
    from twisted.internet import reactor
    from twisted.internet.task import LoopingCall

    ticks: list[None] = []
    ticker = LoopingCall(lambda: ticks.append(None))
    ticker.clock = reactor
    ticker.start(0.01)
    try:
        server = await ServerProcess.start(reactor, twistdArgv("--db=chat.sqlite"), tmp_path)
        during = len(ticks)
    finally:
        ticker.stop()
    try:
        assert during > 1  # the reactor turned while twistd was starting
        assert set(server.ports) == {"TCP", "UDP", "WEB"}
        with socket.create_connection(("127.0.0.1", server.ports["TCP"]), timeout=WAIT) as c:
            assert c.makefile("rb").readline().rstrip() == b"C HELLO chatroom 1 TCP"
    finally:
        status = await server.stop()
    assert status == 0  # SIGTERM: a clean stop
    assert f"listening for TCP on 127.0.0.1:{server.ports['TCP']}" in server.log()
    assert (tmp_path / "server.log").read_text() == server.log()


@pytest_twisted.ensureDeferred
async def test_the_benchmark_server_starts_and_stops_in_the_reactor() -> None:
    from twisted.internet import reactor

    server = await BenchServer.start(reactor)
    directory = Path(server.directory.name)
    try:
        assert server.cpuSeconds() >= 0 and server.rssKiB() > 0
    finally:
        await server.stop()
    assert gone(server.process.pid)
    assert not directory.exists()


@pytest_twisted.ensureDeferred
async def test_a_server_that_fails_to_start_says_why_at_once(tmp_path: Path) -> None:
    from twisted.internet import reactor

    argv = twistdArgv("--db=missing/chat.sqlite")
    with pytest.raises(ServerDidNotStart, match="ended with status 1") as raised:
        await ServerProcess.start(reactor, argv, tmp_path, timeout=60)
    assert "cannot use --db" in str(raised.value)


@pytest_twisted.ensureDeferred
async def test_a_silent_server_is_given_up_and_killed(tmp_path: Path) -> None:
    from twisted.internet import reactor

    with pytest.raises(ServerDidNotStart, match=r"nothing listened within 0\.5 s") as raised:
        await ServerProcess.start(reactor, fake(LISTENS[0]), tmp_path, 0.5)
    assert gone(pidIn(str(raised.value)))


@pytest_twisted.ensureDeferred
async def test_a_server_deaf_to_sigterm_is_killed_after_the_bound(tmp_path: Path) -> None:
    from twisted.internet import reactor

    server = await ServerProcess.start(reactor, fake(*LISTENS, ignoreTerm=True), tmp_path)
    assert server.ports == {"TCP": 4321, "UDP": 4322}
    assert await server.stop(timeout=0.5) == -signal.SIGKILL
    assert pidIn(server.log()) == server.pid
    assert gone(server.pid)


def test_the_blocking_facade_shares_the_rules(tmp_path: Path) -> None:
    server = BlockingServerProcess(fake(*LISTENS, ignoreTerm=True), tmp_path)
    assert server.ports == {"TCP": 4321, "UDP": 4322}
    assert server.stop(timeout=0.5) == -signal.SIGKILL
    assert server.log().splitlines()[1:] == list(LISTENS)
    assert gone(server.pid)
    with pytest.raises(ServerDidNotStart, match=r"nothing listened within 0\.5 s") as raised:
        BlockingServerProcess(fake(LISTENS[0]), tmp_path, timeout=0.5)
    assert gone(pidIn(str(raised.value)))
    tcpOnly = [*fake(LISTENS[0]), "--no-udp"]  # without UDP, ready once TCP listens
    assert BlockingServerProcess(tcpOnly, tmp_path).stop() == -signal.SIGTERM
