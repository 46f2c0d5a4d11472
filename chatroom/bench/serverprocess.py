"""
A real C{twistd chatroom} child process on loopback: its command line, its log, the ports its
"listening" lines name, and stopping it by its own PID with every wait bounded.

The benchmark drives it from its reactor (L{ServerProcess}), which nothing here blocks; the
synchronous tests' blocking facade (C{tests/wire.py}) builds on L{twistdArgv} and L{ServerLog}.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessDone, ProcessExitedAlready, ProcessTerminated
from twisted.internet.interfaces import IProcessTransport
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

#: How C{chatroom.listeners} announces a bound port: C{chatroom listening for TCP on host:port}.
LISTENING = re.compile(r"listening for (\w+) on \S*:(\d+)$", re.MULTILINE)

#: The server's stdout and stderr together, in the directory it runs in.
LOG_NAME = "server.log"

#: Seconds to wait for the listening lines, and for the process to end once signalled.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

#: Seconds between looks at the log while waiting for the listening lines.
POLL = 0.02


class ServerDidNotStart(RuntimeError):
    """
    The server ended, or said nothing about listening in time; the message holds its log.
    """


def installed(name: str) -> str:
    """
    The path of one of the project's commands, installed beside this Python.
    """
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not installed beside {sys.executable}")
    return str(path)


def twistdCommand() -> list[str]:
    """
    How to run C{twistd} with this Python, installed script or not.
    """
    try:
        return [installed("twistd")]
    except FileNotFoundError:
        return [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def twistdArgv(*options: str, twistdOptions: Sequence[str] = ()) -> list[str]:
    """
    C{twistd -n chatroom} in the foreground on 127.0.0.1, ports chosen by the system.

    @param options: more options for the chatroom plugin (C{--db} and the like).
    @param twistdOptions: options for twistd itself, before the plugin's name.
    """
    return [
        *twistdCommand(),
        "-n",
        "--pidfile=",
        *twistdOptions,
        "chatroom",
        "--port=0",
        "--interface=127.0.0.1",
        *options,
    ]


def listeningPorts(text: str) -> dict[str, int]:
    """
    The port for each label (C{TCP}, C{UDP}, C{WEB}) that the log C{text} says is listening.
    """
    return {label: int(port) for label, port in LISTENING.findall(text)}


def expectedListeners(argv: Sequence[str]) -> frozenset[str]:
    """
    The labels the server started by C{argv} listens for once it is ready.
    """
    labels = {"TCP"}
    if "--no-udp" not in argv:
        labels.add("UDP")
    if "chatroom" in argv and "--no-web" not in argv:  # the plugin serves the page too
        labels.add("WEB")
    irc = any(word == "--irc" or word.startswith("--irc=") for word in argv)
    if irc and "--no-irc" not in argv:
        labels.add("IRC")
    if any(word.startswith("--metrics") for word in argv):
        labels.add("METRICS")
    if any(word.startswith("--dtls") for word in argv):
        labels.add("DTLS")
    return frozenset(labels)


def exitStatus(reason: Failure) -> int | None:
    """
    A process's end as L{subprocess.Popen.returncode} says it: C{-signal} if killed by one.
    """
    error = reason.value
    if isinstance(error, (ProcessDone, ProcessTerminated)):
        return -error.signal if error.signal is not None else error.exitCode
    return None


class ServerLog:
    """
    The file the server writes its stdout and stderr to, read for its listening lines.

    The server writes the file itself, never through a pipe to us: a benchmark's load
    generator then pays nothing for the server's logging, and a busy generator cannot stall
    the server's writes. Both ways of running the server read it here, with the same rules.
    """

    def __init__(self, path: Path, expected: frozenset[str]) -> None:
        self.path = path
        self.expected = expected
        self.ports: dict[str, int] = {}
        self._offset = 0
        self._partial = b""

    def create(self) -> IO[bytes]:
        """
        The empty log, opened for the child to write; close it once the child has it.
        """
        return self.path.open("wb")

    @property
    def ready(self) -> bool:
        """
        Whether every expected listener has said where it listens.
        """
        return self.expected <= self.ports.keys()

    def scan(self) -> bool:
        """
        Read the lines written since the last scan, until the server is ready; whether it is.
        """
        if not self.ready:
            with self.path.open("rb") as log:
                log.seek(self._offset)
                data = log.read()
            self._offset += len(data)
            *lines, self._partial = (self._partial + data).split(b"\n")
            for line in lines:
                self.ports.update(self.portsIn(line.decode("utf-8", "replace")))
        return self.ready

    def portsIn(self, line: str) -> dict[str, int]:
        """
        The ports one log line says are listening, by label; another server's log overrides it.
        """
        return listeningPorts(line)

    def text(self) -> str:
        return self.path.read_text("utf-8", errors="replace")

    def notStarted(self, why: str) -> ServerDidNotStart:
        return ServerDidNotStart(f"the server did not start ({why}):\n{self.text()}")


class _ServerProtocol(ProcessProtocol):
    """
    Fires L{listening} once its L{ServerLog} shows the listening lines (looking every
    L{POLL} seconds), or fails it if the process ends first; tells when it has ended.
    """

    def __init__(self, reactor: Any, log: ServerLog) -> None:
        self.log = log
        self.listening: Deferred[None] = Deferred()
        self.status: int | None = None
        self.ended = False
        self._endWaiters: list[Deferred[None]] = []
        self._watch = LoopingCall(self._scan)
        self._watch.clock = reactor

    def connectionMade(self) -> None:
        self._watch.start(POLL)

    def _scan(self) -> None:
        if self.listening.called:  # given up on, by a timeout
            self._watch.stop()
        elif self.log.scan():
            self._watch.stop()
            self.listening.callback(None)

    def processEnded(self, reason: Failure) -> None:
        self.ended = True
        self.status = exitStatus(reason)
        if self._watch.running:
            self._watch.stop()
        if not self.listening.called:
            if self.log.scan():  # its last words were the ones we waited for
                self.listening.callback(None)
            else:
                self.listening.errback(self.log.notStarted(f"it ended with status {self.status}"))
        waiters, self._endWaiters = self._endWaiters, []
        for waiter in waiters:
            if not waiter.called:  # one that timed out was cancelled
                waiter.callback(None)

    def whenEnded(self) -> Deferred[None]:
        """
        A new Deferred that fires when the process has ended (at once if it has).
        """
        d: Deferred[None] = Deferred()
        if self.ended:
            d.callback(None)
        else:
            self._endWaiters.append(d)
        return d


def _spawn(
    reactor: Any, protocol: _ServerProtocol, argv: Sequence[str], cwd: Path
) -> IProcessTransport:
    """
    Start C{argv} in C{cwd}: no input, and its output straight into C{protocol}'s log.
    """
    with protocol.log.create() as out, open(os.devnull, "rb") as nothing:
        transport: IProcessTransport = reactor.spawnProcess(
            protocol,
            argv[0],
            list(argv),
            env=None,
            path=str(cwd),
            childFDs={0: nothing.fileno(), 1: out.fileno(), 2: out.fileno()},
        )
    return transport


class ServerProcess:
    """
    A server run with C{reactor.spawnProcess}: nothing here blocks the reactor.

    Make one with L{ServerProcess.start}; it is listening on L{ports} by then.
    """

    def __init__(
        self, reactor: Any, protocol: _ServerProtocol, transport: IProcessTransport
    ) -> None:
        self.reactor = reactor
        self.pid: int = transport.pid
        self._transport = transport
        self.ports = dict(protocol.log.ports)
        self._protocol = protocol
        self._log = protocol.log

    @classmethod
    async def start(
        cls,
        reactor: Any,
        argv: Sequence[str],
        cwd: Path,
        timeout: float = START_TIMEOUT,
        log: ServerLog | None = None,
    ) -> ServerProcess:
        """
        Run C{argv} in C{cwd}; wait at most C{timeout} seconds for its listening lines.

        @param log: how to read another server's log (default: C{twistd chatroom}'s).
        @raise ServerDidNotStart: it ended first, or the time ran out (it is stopped then).
        """
        if log is None:
            log = ServerLog(cwd / LOG_NAME, expectedListeners(argv))
        protocol = _ServerProtocol(reactor, log)
        server = cls(reactor, protocol, _spawn(reactor, protocol, argv, cwd))
        try:
            await protocol.listening.addTimeout(timeout, reactor)
        except defer.TimeoutError:
            await server.stop()
            raise protocol.log.notStarted(f"nothing listened within {timeout:g} s") from None
        server.ports = dict(protocol.log.ports)
        return server

    def log(self) -> str:
        return self._log.text()

    @property
    def running(self) -> bool:
        return not self._protocol.ended

    async def stop(self, sent: str | int = "TERM", timeout: float = STOP_TIMEOUT) -> int | None:
        """
        Send C{sent} to our own PID and wait up to C{timeout} seconds for it to end; then
        C{SIGKILL} that PID and wait as long again. The exit status (C{-signal} if a signal
        ended it), as L{subprocess.Popen.returncode} has it.
        """
        for each in (sent, "KILL"):
            if self._protocol.ended:
                break
            with suppress(ProcessExitedAlready):  # processEnded is on its way
                self._transport.signalProcess(each)
            with suppress(defer.TimeoutError):
                await self._protocol.whenEnded().addTimeout(timeout, self.reactor)
        if not self._protocol.ended:
            raise TimeoutError(f"the server (PID {self.pid}) did not end even after SIGKILL")
        return self._protocol.status
