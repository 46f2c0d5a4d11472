"""
A real PostgreSQL server of our own, for the tests and the benchmark's cluster scenario:
Debian's binaries, a cluster in a temporary directory, listening on 127.0.0.1 only (trust auth
there, nowhere else) on a free port, its unix socket in that directory. Never the machine's
own cluster.

PostgreSQL refuses to run as root, so when the tests run as root the cluster's processes run as
the C{postgres} system user (C{subprocess.Popen(user=...)}: the PID started is PostgreSQL's
own, and it is stopped by that PID).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


def _binaries() -> Path:
    """
    Where Debian installs PostgreSQL's programs (the newest version there), unless
    C{CHATROOM_PG_BIN} says.
    """
    if "CHATROOM_PG_BIN" in os.environ:
        return Path(os.environ["CHATROOM_PG_BIN"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


BINARIES = _binaries()

#: Seconds PostgreSQL has to start or stop.
WAIT = 30.0


def installed() -> bool:
    return (BINARIES / "postgres").is_file() and (BINARIES / "initdb").is_file()


def _freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresServer:
    """
    One cluster, started and stopped (and started again, on the same port) at will.
    """

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="chatroom-pg-"))
        self.data = self.directory / "data"
        self.port = _freePort()
        self.process: subprocess.Popen[bytes] | None = None
        self._asUser: dict[str, Any] = {}
        self._paused: list[int] = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            self._asUser = {"user": "postgres", "group": "postgres", "extra_groups": []}
        subprocess.run(
            [
                str(BINARIES / "initdb"),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
                "-D",
                str(self.data),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.directory,
            timeout=WAIT * 2,
            **self._asUser,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        log = open(self.directory / "server.log", "ab")  # noqa: SIM115 -- the child keeps it
        with log:
            self.process = subprocess.Popen(
                [
                    str(BINARIES / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.directory}",
                    "-c",
                    "fsync=off",  # a test cluster: speed over durability across a machine crash
                ],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **self._asUser,
            )
        deadline = time.monotonic() + WAIT
        while not self._ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL did not start:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"PostgreSQL not ready within {WAIT:g} s:\n{self.log()}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        result = subprocess.run(
            [str(BINARIES / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
            timeout=WAIT,
        )
        return result.returncode == 0

    def log(self) -> str:
        return (self.directory / "server.log").read_text(errors="replace")

    def stop(self) -> None:
        """
        Fast shutdown (SIGINT: sessions are cut, as when a server goes away), by our PID.
        """
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=WAIT)

    def _processes(self) -> list[int]:
        """
        The postmaster's PID and its children's (each connection's backend, the writers):
        ours, found through /proc.
        """
        assert self.process is not None
        pids = [self.process.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def pids(self) -> list[int]:
        """
        The PIDs of the running server's processes, postmaster first (to read their CPU time).
        """
        return self._processes()

    def pause(self) -> None:
        """
        Freeze the server (SIGSTOP to the postmaster and its children): connections stay
        open, nothing answers.
        """
        self._paused = self._processes()
        for pid in self._paused:
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self._paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._paused = []

    def createDatabase(self, name: str) -> str:
        """
        A fresh, empty database; its URL.
        """
        subprocess.run(
            [
                str(BINARIES / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            check=True,
            timeout=WAIT,
        )
        return self.url(name)

    def remove(self) -> None:
        self.resume()
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
