"""
The server under test: a real C{twistd chatroom} subprocess on loopback.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LISTENING = re.compile(r"listening for (\w+) on \S*:(\d+)$", re.MULTILINE)
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


def _twistd() -> list[str]:
    script = Path(sys.executable).parent / "twistd"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def _moreFiles() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class BenchServer:
    """
    Starts C{twistd -n chatroom} with C{options}; stopped by its own PID.
    """

    #: When set, the server runs under cProfile and saves its stats here.
    profile: str | None = os.environ.get("CHATROOM_BENCH_PROFILE")

    def __init__(self, *options: str, accounts: bool = False) -> None:
        self.directory = tempfile.TemporaryDirectory(prefix="chatroom-bench-")
        self.logPath = Path(self.directory.name) / "server.log"
        profiling = []
        if self.profile:
            profiling = ["--profiler=cprofile", f"--profile={self.profile}", "--savestats"]
        argv = [
            *_twistd(),
            "-n",
            "--pidfile=",
            *profiling,
            "chatroom",
            "--port=0",
            "--interface=127.0.0.1",
            f"--db={Path(self.directory.name) / 'bench.sqlite'}",
            *([] if accounts else ["--no-accounts"]),
            *UNLIMITED,
            *options,
        ]
        with self.logPath.open("wb") as log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_moreFiles,
                cwd=self.directory.name,
            )
        self.ports = self._ports()

    def _ports(self) -> dict[str, int]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = {label: int(port) for label, port in LISTENING.findall(self.log())}
            if "TCP" in found and "UDP" in found:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not start:\n{self.log()}")

    def log(self) -> str:
        return self.logPath.read_text("utf-8", errors="replace")

    def cpuSeconds(self) -> float:
        """
        User and system CPU time the server has used so far.
        """
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rssKiB(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.directory.cleanup()
