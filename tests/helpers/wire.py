"""
Test clients that speak the chatroom protocol over real sockets.

Every wait is bounded, so a broken server fails a test instead of hanging
the suite.
"""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IStreamClientEndpoint, ITransport
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure

from chatroom.bench import serverprocess
from chatroom.bench.serverprocess import (
    LOG_NAME,
    POLL,
    START_TIMEOUT,
    STOP_TIMEOUT,
    ServerLog,
    expectedListeners,
    twistdArgv,
)

WAIT = 10.0


class LineClient(LineReceiver):
    """
    Collects the server's frames; tests read them with L{next}.
    """

    delimiter = b"\n"
    MAX_LENGTH = 16384
    transport: ITransport

    def __init__(self) -> None:
        self.frames: DeferredQueue[str] = DeferredQueue()
        self.raw: list[bytes] = []
        self.closed: Deferred[None] = Deferred()

    def lineReceived(self, line: bytes) -> None:
        self.raw.append(line)
        self.frames.put(line.decode("utf-8").removesuffix("\r"))

    def connectionLost(self, reason: object = None) -> None:
        self.closed.callback(None)

    def send(self, *frames: str | bytes) -> None:
        """
        Write frames, each with C{\\n}, in one write (so, pipelined).
        """
        self.transport.write(
            b"".join((f if isinstance(f, bytes) else f.encode("utf-8")) + b"\n" for f in frames)
        )

    async def next(self, wait: float = WAIT) -> str:
        from twisted.internet import reactor

        d = self.frames.get()
        d.addTimeout(wait, reactor)
        return await d

    async def expect(self, *frames: str) -> None:
        """
        The next frames are exactly these, in this order.
        """
        for frame in frames:
            assert await self.next() == frame

    async def waitClosed(self) -> None:
        from twisted.internet import reactor

        if not self.closed.called:
            # Waited for through another Deferred: a timeout cancels that one only.
            done: Deferred[None] = Deferred()

            def fire(result: Failure | None) -> Failure | None:
                done.callback(None)
                return result

            self.closed.addBoth(fire)
            await done.addTimeout(WAIT, reactor)

    def pending(self) -> int:
        """
        How many frames arrived that the test has not read.
        """
        return len(self.frames.pending)

    def close(self) -> None:
        self.transport.loseConnection()


async def connect(port: int, endpoint: IStreamClientEndpoint | None = None) -> LineClient:
    from twisted.internet import reactor

    if endpoint is None:
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=5)
    client = LineClient()
    await connectProtocol(endpoint, client)
    return client


async def loggedIn(port: int, name: str, password: str = "secret") -> LineClient:
    """
    A client that registered (or logged in as) C{name}, past its WELCOME.
    """
    client = await connect(port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send(f"C LOGIN {name}", f"C PASS {password}")
    assert (await client.next()).startswith("C PASSWORD ")
    welcome = await client.next()
    assert welcome.startswith(f"C WELCOME {name} TCP "), welcome
    return client


class BlockingClient:
    """
    A plain socket client, for tests that drive a server subprocess.
    """

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.file = self.sock.makefile("rb")

    def send(self, *frames: str) -> None:
        self.sock.sendall(b"".join(f.encode("utf-8") + b"\n" for f in frames))

    def next(self) -> str:
        line = self.file.readline()
        if not line:
            raise EOFError("the server closed the connection")
        return line.decode("utf-8").removesuffix("\n").removesuffix("\r")

    def expect(self, *frames: str) -> None:
        for frame in frames:
            assert self.next() == frame

    def atEOF(self) -> bool:
        return self.file.readline() == b""

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def blockingLoggedIn(port: int, name: str, password: str = "secret") -> BlockingClient:
    """
    A L{BlockingClient} logged in as C{name} (registered or not), its C{C WELCOME} read.
    """
    client = BlockingClient(port)
    client.expect("C HELLO chatroom 1 TCP")
    client.send(f"C LOGIN {name}", f"C PASS {password}")
    assert client.next().startswith("C PASSWORD ")
    assert client.next().startswith(f"C WELCOME {name} TCP ")
    return client


class BlockingUDP:
    """
    A plain UDP client for a server subprocess on loopback: numbers its
    frames, acknowledges the server's, and hands them back in order.
    """

    def __init__(self, port: int, firstSeq: int = 4242) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(WAIT)
        self.server = ("127.0.0.1", port)
        self.seq = firstSeq
        self.seen: set[int] = set()

    def send(self, *frames: str) -> None:
        for frame in frames:
            self.sock.sendto(f"{self.seq} {frame}".encode(), self.server)
            self.seq += 1

    def next(self) -> str:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            data, _ = self.sock.recvfrom(65535)
            head, _, frame = data.partition(b" ")
            if head == b"A":
                continue
            self.sock.sendto(b"A " + head, self.server)
            if int(head) not in self.seen:
                self.seen.add(int(head))
                return frame.decode("utf-8")
        raise TimeoutError("no frame from the server")

    def expect(self, *frames: str) -> None:
        for frame in frames:
            assert self.next() == frame

    def close(self) -> None:
        self.sock.close()


class ServerProcess:
    """
    A real server subprocess, started by its command line, stopped by PID: the blocking
    facade of L{chatroom.bench.serverprocess.ServerProcess}, for tests that block on plain
    sockets. Its log and ports come from the same L{ServerLog}.
    """

    def __init__(self, argv: Sequence[str], cwd: Path, timeout: float = START_TIMEOUT) -> None:
        self.argv = list(argv)
        self._log = ServerLog(cwd / LOG_NAME, expectedListeners(argv))
        with self._log.create() as out:
            self.process = subprocess.Popen(
                self.argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while not self._log.scan():
            if self.process.poll() is not None and not self._log.scan():
                status = self.stop()
                raise self._log.notStarted(f"it ended with status {status}")
            if time.monotonic() > deadline:
                self.stop()
                raise self._log.notStarted(f"nothing listened within {timeout:g} s")
            time.sleep(POLL)
        self.ports = dict(self._log.ports)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self._log.text()

    def stop(self, sent: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """
        Send C{sent} to our own PID and wait up to C{timeout} seconds; then C{SIGKILL} that
        PID and wait as long again. The exit status (C{-signal} if a signal ended it).
        """
        if self.process.poll() is None:
            self.process.send_signal(sent)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        return self.process.returncode

    def waitForLog(self, text: str) -> None:
        deadline = time.monotonic() + WAIT
        while text not in self.log():
            assert time.monotonic() < deadline, f"{text!r} never logged:\n{self.log()}"
            time.sleep(0.05)


def installed(name: str) -> str:
    """
    The path of one of the project's commands, installed beside Python.
    """
    try:
        return serverprocess.installed(name)
    except FileNotFoundError as e:
        raise AssertionError(str(e)) from None


class ClientProcess:
    """
    A real C{chatclient} with piped input, read line by line as it prints.
    """

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [installed("chatclient"), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        assert self.process.stdin is not None and self.process.stdout is not None  # piped
        self._input: IO[str] = self.process.stdin
        self._output: IO[str] = self.process.stdout
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._output:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def type(self, *lines: str) -> None:
        self._input.write("".join(line + "\n" for line in lines))
        self._input.flush()

    def endInput(self) -> None:
        self._input.close()

    def waitFor(self, text: str, wait: float = WAIT) -> str:
        """
        Read output until a line containing C{text}, for at most C{wait}
        seconds; return that line.
        """
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} never printed; output was:\n" + "\n".join(self.lines))

    def wait(self) -> int:
        """
        Wait for the client to exit; keep the rest of its output.
        """
        try:
            status = self.process.wait(timeout=WAIT * 3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=WAIT)
            raise
        while (line := self._queue.get(timeout=WAIT)) is not None:
            self.lines.append(line)
        return status

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT)


def twistdServer(directory: Path, *options: str) -> ServerProcess:
    """
    C{twistd -n chatroom} on 127.0.0.1, ports chosen by the system.
    """
    return ServerProcess(twistdArgv("--db=chat.sqlite", *options), directory)


def pipedClient(port: int, name: str, lines: str, udp: bool = False) -> tuple[int, str]:
    """
    Run C{chatclient} with C{lines} as its whole input; its status and output.
    """
    return runChatclient("127.0.0.1", str(port), name, *(["--udp"] if udp else []), lines=lines)


def runChatclient(*args: str, lines: str = "") -> tuple[int, str]:
    """
    Run C{chatclient args} with C{lines} as its whole input, for at most a
    minute; its status and its output (both streams).
    """
    result = subprocess.run(
        [installed("chatclient"), *args],
        check=False,
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr
