"""
Starting the server wrongly: one clear line, a non-zero exit, and nothing
left behind. Each test runs the installed command in an empty directory.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from helpers.wire import ServerProcess, installed
from twisted.internet.defer import Deferred
from twisted.logger import LogLevel, globalLogPublisher

from chatroom.listeners import ListenerService
from chatroom.startup import ServerService, StartupError


def run(directory: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [installed(argv[0]), *argv[1:]],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def assertFailedCleanly(result: subprocess.CompletedProcess, directory: Path, line: str) -> None:
    """
    A non-zero exit, C{line} alone on stderr, no traceback, no files.
    """
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == line
    assert "Traceback" not in result.stdout + result.stderr
    assert sorted(p.name for p in directory.iterdir()) == []


TWISTD = ("twistd", "-n", "chatroom", "--interface", "127.0.0.1")


def test_busy_tcp_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # Without --pidfile=: twistd's own PID file must be cleaned up too.
        result = run(tmp_path, *TWISTD, "--port", str(port))
    line = f"twistd: cannot listen for TCP on 127.0.0.1:{port}: Address already in use"
    assertFailedCleanly(result, tmp_path, line)


def test_busy_udp_port(tmp_path):
    with socket.socket(type=socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = run(
            tmp_path, "chatserver", "0", "--interface", "127.0.0.1", "--udp-port", str(port)
        )
    line = f"chatserver: cannot listen for UDP on 127.0.0.1:{port}: Address already in use"
    assertFailedCleanly(result, tmp_path, line)


@pytest.mark.parametrize("interface", ["256.1.1.1", "localhost", "127.0.0.1:9000"])
def test_bad_interface(tmp_path, interface):
    result = run(tmp_path, "chatserver", "0", "--interface", interface)
    line = f"chatserver: --interface {interface!r} is not an IP address (such as 127.0.0.1 or ::)"
    assertFailedCleanly(result, tmp_path, line)
    assert result.returncode == 2  # a usage error
    result = run(tmp_path, "twistd", "-n", "chatroom", "--interface", interface)
    assert result.returncode != 0
    # The reason first, on stderr, then where the usage is (not twistd's whole usage).
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == (
        f"twistd chatroom: --interface {interface!r} is not an IP address (such as 127.0.0.1 or ::)"
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "description, reason",
    [
        ("bogus:9000", "Unknown endpoint type: 'bogus'"),
        ("tcp:port=abc", "invalid literal for int() with base 10: 'abc'"),
    ],
)
def test_bad_tcp_description(tmp_path, description, reason):
    result = run(tmp_path, *TWISTD, "--tcp", description)
    assertFailedCleanly(result, tmp_path, f"twistd: cannot use --tcp {description}: {reason}")


def test_missing_certificate(tmp_path):
    description = "ssl:0:interface=127.0.0.1:privateKey=key.pem:certKey=cert.pem"
    result = run(tmp_path, "chatserver", "--tcp", description)
    missing = tmp_path / "cert.pem"
    line = (
        f"chatserver: cannot use --tcp {description}: "
        f"[Errno 2] No such file or directory: '{missing}'"
    )
    assertFailedCleanly(result, tmp_path, line)


def test_unusable_database_creates_nothing(tmp_path):
    result = run(tmp_path, *TWISTD, "--port", "0", "--db", "missing/chat.sqlite")
    line = (
        f"twistd: cannot use --db {tmp_path}/missing/chat.sqlite: no directory {tmp_path}/missing"
    )
    assertFailedCleanly(result, tmp_path, line)


def test_rundir_makes_one_database_where_it_was_named(tmp_path):
    (tmp_path / "run").mkdir()
    server = ServerProcess(
        [
            installed("twistd"),
            "-n",
            "--pidfile=",
            "--rundir=run",
            "chatroom",
            "--port=0",
            "--interface=127.0.0.1",
            "--db=chat.sqlite",
        ],
        tmp_path,
    )
    try:
        with socket.create_connection(("127.0.0.1", server.ports["TCP"])) as client:
            client.sendall(b"C LOGIN dana\nC PASS pw\nC EX\n")
            assert b"C BYE EXIT" in b"".join(iter(lambda: client.recv(4096), b""))
    finally:
        server.stop()
    assert (tmp_path / "chat.sqlite").stat().st_size > 0
    assert list((tmp_path / "run").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chat.sqlite", "run", "server.log"]


def test_chatserver_speaks_of_its_own_synopsis(tmp_path):
    result = run(tmp_path, "chatserver", "abc")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "chatserver: PORT must be a number from 0 to 65535 (0: any free port), not 'abc'",
        "Usage: chatserver [PORT] [options] (chatserver --help lists them)",
    ]
    assert result.stdout == ""
    result = run(tmp_path, "chatserver", "99999")
    assert result.returncode == 2 and "PORT must be a number" in result.stderr
    result = run(tmp_path, "chatserver", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: chatserver [PORT] [options]\n")
    assert "twistd [options]" not in result.stdout
    for option in ["--interface", "--tcp", "--db", "--max-per-ip", "--max-registrations"]:
        assert option in result.stdout
    result = run(tmp_path, "chatserver", "--no-such-option")
    assert result.returncode == 2
    assert result.stderr.startswith("chatserver: option --no-such-option not recognized\n")
    assert list(tmp_path.iterdir()) == []


class SlowEndpoint:
    """
    An endpoint that answers later, as one that resolves a name would.
    """

    def __init__(self) -> None:
        self.listening: Deferred = Deferred()

    def listen(self, factory: object) -> Deferred:
        return self.listening


class Reactor:
    stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_a_listener_that_fails_late_stops_the_server_loudly():
    endpoint, reactor = SlowEndpoint(), Reactor()
    top = ServerService(reactor)
    listener = ListenerService(endpoint, object(), "TCP", top.failLate)
    listener.privilegedStartService()
    listener.startService()
    events: list[dict] = []
    globalLogPublisher.addObserver(events.append)
    try:
        endpoint.listening.errback(OSError("no such service"))
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert reactor.stopped
    [event] = [e for e in events if e["log_level"] == LogLevel.critical]
    assert str(event["error"]) == "cannot listen for TCP: no such service"


def test_a_listener_that_fails_at_once_raises_one_line():
    class Refusing:
        def listen(self, factory: object) -> Deferred:
            d: Deferred = Deferred()
            d.errback(OSError("refused"))
            return d

    listener = ListenerService(Refusing(), object(), "TCP", ServerService(Reactor()).failLate)
    with pytest.raises(StartupError, match=r"^cannot listen for TCP: refused$"):
        listener.privilegedStartService()
