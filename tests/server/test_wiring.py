"""
How the server's services are wired: what starts first, what stops last,
and what a failure after start-up does. Over real sockets where a port or
a file is involved; the ordering rule itself with plain services.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest
import pytest_twisted
from helpers.wire import BlockingClient, ServerProcess, installed, loggedIn
from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from chatroom.listeners import ListenerService
from chatroom.options import Options
from chatroom.startup import ServerService, StartupError
from chatroom.tap import buildService


def _options(*args: str) -> Options:
    options = Options()
    options.parseOptions(["--port", "0", "--interface", "127.0.0.1", *args])
    return options


@pytest_twisted.ensureDeferred
async def test_a_busy_port_stops_a_start_from_startService_alone(tmp_path, passwords):
    """
    C{twist} (and a test) call only C{startService}: the listeners still
    bind before the store creates the database, so a taken port leaves
    nothing behind.
    """
    from twisted.internet import reactor

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = _options("--port", str(port), "--db", str(tmp_path / "chat.sqlite"))
        top = buildService(options, reactor, passwords)
        with pytest.raises(StartupError) as raised:
            top.startService()
    assert str(raised.value) == f"cannot listen for TCP on 127.0.0.1:{port}: Address already in use"
    assert not top.running
    # Time enough for a store opened on its thread to have made its file.
    await deferLater(reactor, 0.3, lambda: None)
    assert list(tmp_path.iterdir()) == []


@pytest_twisted.ensureDeferred
async def test_the_store_is_open_before_anyone_is_served(tmp_path, passwords):
    """
    Once started, the database is there and open: the first login does
    not wait for it, and a store that cannot open would have stopped the
    start (see test_unavailable).
    """
    from twisted.internet import reactor

    path = tmp_path / "chat.sqlite"
    top = buildService(_options("--no-udp", "--db", str(path)), reactor, passwords)
    top.startService()
    try:
        assert path.stat().st_size > 0  # created, with its schema, already
        client = await loggedIn(top.getServiceNamed("tcp").port.getHost().port, "ann")
        client.send("C EX")
        await client.expect("C BYE EXIT")
        await client.waitClosed()
    finally:
        await top.stopService()
    assert top.getServiceNamed("store").store._closing


class Recorder(Service):
    """
    A service that notes when it stops; its stop ends when the test says.
    """

    def __init__(self, name: str, log: list[str], foundation: bool = False) -> None:
        self.label = name
        self.log = log
        self.foundation = foundation
        self.stopping: Deferred[None] = Deferred()

    def stopService(self) -> Deferred[None]:
        super().stopService()
        self.log.append(f"stop {self.label}")
        return self.stopping


class Reactor:
    """
    Stands in for the reactor a server would stop.
    """

    def stop(self) -> None:
        pass


def test_foundations_stop_after_everything_else_has():
    """
    The room and the listeners stop together (UDP waits for the room's
    goodbyes); the store and the hashing threads only once they are done.
    """
    log: list[str] = []
    top = ServerService(Reactor())
    hashing = Recorder("hashing", log, foundation=True)
    store = Recorder("store", log, foundation=True)
    room = Recorder("room", log)
    tcp = Recorder("tcp", log)
    for service in [hashing, store, room, tcp]:
        service.setServiceParent(top)
    top.startService()
    stopped: list[None] = []
    top.stopService().addCallback(stopped.append)
    assert log == ["stop tcp", "stop room"]
    room.stopping.callback(None)
    assert log == ["stop tcp", "stop room"]
    tcp.stopping.callback(None)
    assert log == ["stop tcp", "stop room", "stop store"]
    store.stopping.callback(None)
    assert log == ["stop tcp", "stop room", "stop store", "stop hashing"]
    assert stopped == []
    hashing.stopping.callback(None)
    assert stopped == [None] and not top.running


def test_a_late_listen_failure_is_kept_for_the_exit_status():
    """
    The server that stopped for a late failure tells its command why, so
    that C{chatserver} exits with status 1 rather than 0.
    """

    listening: Deferred = Deferred()

    class Slow:
        def listen(self, factory: object) -> Deferred:
            return listening

    top = ServerService(Reactor())
    listener = ListenerService(Slow(), object(), "TCP", top.failLate)
    listener.startService()
    assert top.stoppedBy is None
    listening.errback(OSError("no such service"))
    assert str(top.stoppedBy) == "cannot listen for TCP: no such service"


def test_the_plugin_imports_nothing_of_chatroom():
    """
    twistd imports every plugin for C{--help}: ours stays tiny and lazy, so
    a broken dependency cannot make it vanish from the list.
    """
    code = (
        "import sys, twisted.plugins.chatroom_plugin as p;"
        "print(p.chatroom.tapname, sorted(m for m in sys.modules if m.startswith('chatroom')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert out == "chatroom []\n"


def test_parsing_options_loads_no_runtime():
    """
    C{--help} and a bad option answer without loading the room, the doors
    or the cluster: the options read their defaults from
    L{chatroom.settings}, and still show them.
    """
    code = (
        "import sys; from chatroom.options import Options; o = Options();"
        " o.parseOptions(['--port', '0']); print(o.roomLimits().maxClients);"
        " print(sorted(m for m in sys.modules if m.startswith('chatroom')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    count, loaded = out.splitlines()
    assert count == "1000"
    for runtime in ("room", "tcp", "udp", "web", "cluster", "talk", "login", "pipeline"):
        assert f"'chatroom.{runtime}'" not in loaded, loaded


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_chatserver_says_bye_and_exits_0_on_sigterm_dies_of_sigint(tmp_path, stop):
    argv = [installed("chatserver"), "0", "--interface", "127.0.0.1", "--db", "chat.sqlite"]
    server = ServerProcess(argv, tmp_path)
    try:
        client = BlockingClient(server.ports["TCP"])
        client.expect("C HELLO chatroom 1 TCP")
        client.send("C LOGIN dana", "C PASS pw")
        client.expect(
            "C PASSWORD NEW", "C WELCOME dana TCP Welcome dana, you are connected via TCP."
        )
        server.stop(stop)
        client.expect("C BYE SHUTDOWN")
        assert client.atEOF()
        client.close()
    finally:
        status = server.stop()
    assert status == (0 if stop == signal.SIGTERM else -stop)
    log = server.log()
    assert "chatroom listening for UDP on 127.0.0.1:" in log
    assert "chatroom stopped" in log and "Traceback" not in log
