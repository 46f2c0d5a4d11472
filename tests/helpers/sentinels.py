"""
A Redis Sentinel set for the failover tests: a replica of a master (a
L{chatroom.bench.redisserver.RedisServer} the test started) and three C{redis-sentinel}s watching
it, all Debian's, on free loopback ports in a temporary directory, each started and stopped by
its own PID.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from chatroom.bench import redisserver

SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"

#: The name the sentinels know the master by.
MASTER = "chatroom"

#: How soon a silent master is down for a sentinel, in ms: short, so the test fails over soon.
DOWN_AFTER = 1000


def installed() -> bool:
    return Path(SENTINEL).is_file() and redisserver.installed()


def ask(port: int, *words: str, timeout: float = 3.0) -> str:
    """
    One command to the server on C{port}; its raw reply, as text, read until it pauses.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(
            f"*{len(words)}\r\n".encode()
            + b"".join(f"${len(w.encode())}\r\n{w}\r\n".encode() for w in words)
        )
        reply = s.recv(65536)
        s.settimeout(0.05)
        try:
            while chunk := s.recv(65536):
                reply += chunk
        except TimeoutError:
            pass
        return reply.decode("utf-8", "replace")


def _freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SentinelSet:
    """
    A replica of the master on C{masterPort} and three sentinels watching the master.
    """

    def __init__(self, directory: Path, masterPort: int) -> None:
        self.directory = directory
        self.masterPort = masterPort
        self.replicaPort = _freePort()
        self.ports = [_freePort() for _ in range(3)]
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.ports)
        return f"sentinel://{hosts}/{MASTER}"

    def _spawn(self, name: str, argv: list[str]) -> None:
        where = self.directory / name
        where.mkdir(exist_ok=True)
        with open(where / "log", "ab") as log:
            self.processes.append(
                subprocess.Popen(
                    argv, cwd=where, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
                )
            )

    def start(self, wait: float = 40.0) -> None:
        self._spawn(
            "replica",
            [
                redisserver.BINARY,
                "--bind", "127.0.0.1",
                "--port", str(self.replicaPort),
                "--save", "",
                "--appendonly", "no",
                "--replicaof", "127.0.0.1", str(self.masterPort),
            ],
        )  # fmt: skip
        for index, port in enumerate(self.ports):
            where = self.directory / f"sentinel{index}"
            where.mkdir(exist_ok=True)
            config = where / "sentinel.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndaemonize no\ndir {where}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.masterPort} 2\n"
                f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER}\n"
                f"sentinel failover-timeout {MASTER} 10000\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            self._spawn(f"sentinel{index}", [SENTINEL, str(config)])
        deadline = time.monotonic() + wait
        while not self.ready():
            dead = [p.args for p in self.processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the sentinel set did not come up (exited: {dead}):\n{self.logs()}"
                )
            time.sleep(0.25)

    def ready(self) -> bool:
        """
        The replica copies the master, and every sentinel knows the other two and the replica.
        """
        try:
            if "master_link_status:up" not in ask(self.replicaPort, "INFO", "replication"):
                return False
            for port in self.ports:
                if "+OK 3 usable" not in ask(port, "SENTINEL", "ckquorum", MASTER):
                    return False
                if str(self.replicaPort) not in ask(port, "SENTINEL", "replicas", MASTER):
                    return False
        except OSError:
            return False
        return True

    def masterPortNow(self) -> int | None:
        """
        The port of the master, as the first sentinel that answers says.
        """
        for port in self.ports:
            try:
                reply = ask(port, "SENTINEL", "get-master-addr-by-name", MASTER).split("\r\n")
            except OSError:
                continue
            if len(reply) >= 5 and reply[4].isdigit():
                return int(reply[4])
        return None

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.parent.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.directory.glob("*/log"))
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes = []
