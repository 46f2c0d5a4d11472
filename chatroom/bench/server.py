"""
The server under test: a real C{twistd chatroom} child of the load generator's reactor, in a
directory of its own, with its limits off; and what it costs in CPU time and memory.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from chatroom.bench.serverprocess import ServerProcess, twistdArgv

TICKS = os.sysconf("SC_CLK_TCK")

#: Limits off, room for thousands of clients: the benchmark measures speed.
UNLIMITED = [
    "--msg-rate=0",
    "--sendq=0",
    "--login-failures=0",
    "--max-per-ip=0",
    "--max-registrations=0",
    "--max-clients=20000",
]

#: A profiled server writes its statistics when it stops, which takes a while.
STOP_TIMEOUT = 20.0


class BenchServer:
    """
    C{twistd -n chatroom} with the benchmark's options, started and stopped without blocking
    the reactor. It inherits the generator's open-files limit, which C{__main__} raises.
    """

    #: When set, the server runs under cProfile and saves its stats here.
    profile: str | None = os.environ.get("CHATROOM_BENCH_PROFILE")

    def __init__(self, directory: tempfile.TemporaryDirectory[str], process: ServerProcess):
        self.directory = directory
        self.process = process
        self.ports = process.ports

    @classmethod
    async def start(cls, reactor: Any, *options: str, accounts: bool = False) -> BenchServer:
        """
        A server listening on loopback, with C{options} after the benchmark's own.

        @raise ServerDidNotStart: with the server's log.
        """
        directory = tempfile.TemporaryDirectory(prefix="chatroom-bench-")
        profiling = []
        if cls.profile:
            profiling = ["--profiler=cprofile", f"--profile={cls.profile}", "--savestats"]
        argv = twistdArgv(
            f"--db={Path(directory.name) / 'bench.sqlite'}",
            *([] if accounts else ["--no-accounts"]),
            *UNLIMITED,
            # e.g. CHATROOM_BENCH_OPTIONS=--history=0, to compare.
            *os.environ.get("CHATROOM_BENCH_OPTIONS", "").split(),
            *options,
            twistdOptions=profiling,
        )
        try:
            process = await ServerProcess.start(reactor, argv, Path(directory.name))
        except BaseException:
            directory.cleanup()
            raise
        return cls(directory, process)

    def log(self) -> str:
        return self.process.log()

    def cpuSeconds(self) -> float:
        """
        User and system CPU time the server has used so far.
        """
        return sum(self.cpuTimes())

    def cpuTimes(self) -> tuple[float, float]:
        """
        User and system CPU time apart: Python's own work shows in the first, sends and
        wake-ups in the second.
        """
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) / TICKS, int(fields[12]) / TICKS

    def rssKiB(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    async def stop(self) -> None:
        """
        SIGTERM our server, SIGKILL it if it outstays L{STOP_TIMEOUT}; then clean up.
        """
        try:
            await self.process.stop(timeout=STOP_TIMEOUT)
        finally:
            self.directory.cleanup()
