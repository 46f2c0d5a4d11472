"""
A real Redis of our own, for the tests and the benchmark's cluster scenario: Debian's
C{redis-server}, in a temporary directory, listening on 127.0.0.1 only, on a free port, without
persistence (a restart empties it, as a crashed Redis without a disk would be). Started,
stopped, paused (C{SIGSTOP}) and resumed by its own PID.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: Seconds Redis has to start or stop.
WAIT = 10.0

BINARY = shutil.which("redis-server") or "/usr/bin/redis-server"


def installed() -> bool:
    return Path(BINARY).is_file()


def _freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="chatroom-redis-"))
        self.port = _freePort()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 -- the child keeps it
        with log:
            self.process = subprocess.Popen(
                [
                    BINARY,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--dir",
                    str(self.directory),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + WAIT
        while not self.ping():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server did not start:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server not ready within {WAIT:g} s:\n{self.log()}")
            time.sleep(0.05)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *words: str) -> bytes:
        """
        One command, its raw reply (enough for the tests' few looks inside).
        """
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(
                f"*{len(words)}\r\n".encode()
                + b"".join(f"${len(w.encode())}\r\n{w}\r\n".encode() for w in words)
            )
            time.sleep(0.05)
            return s.recv(65536)

    def log(self) -> str:
        return (self.directory / "redis.log").read_text(errors="replace")

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)  # a paused one would not hear SIGTERM
        process.terminate()
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=WAIT)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
