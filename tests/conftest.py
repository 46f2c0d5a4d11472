"""
Fixtures for every folder: real servers on 127.0.0.1, port 0, with a real
SQLite file; UDP test clients; cheap password hashing; our own PostgreSQL
and redis-server. What the folders hold: README.rst beside this file.

The reactor is never imported at module level here: pytest-twisted installs
it from --reactor, and an early import would fix the default one.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_twisted
from argon2 import PasswordHasher
from hypothesis import settings

from chatroom.bench import pgserver, redisserver
from chatroom.options import Options
from chatroom.passwords import Passwords
from chatroom.room import Room
from chatroom.tap import buildService
from chatroom.udp import UDPTimings

pytest.register_assert_rewrite("helpers")

# Only now: the helpers' asserts are rewritten if registered before their import.
from helpers import udpwire  # noqa: E402
from helpers.streams import STREAMS, Stream  # noqa: E402
from helpers.system import need  # noqa: E402

#: UDP timings for test servers: a server stopped while a test's raw client
#: ignores its BYE waits a quarter of a second, not the real 2 s.
TEST_UDP_TIMINGS = {"shutdownGrace": 0.25}

# CI runs the same examples every time (a red run must be reproducible);
# a developer's runs explore new ones. No deadline: machines here are shared.
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=200)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def passwords() -> Passwords:
    """
    Real argon2id, with parameters cheap enough for hundreds of logins.
    """
    return Passwords(PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


class Server:
    """
    A running server built from command-line options, as twistd builds it.
    """

    def __init__(self, top, options: Options) -> None:
        self.top = top
        self.options = options
        self.chat: Room = top.getServiceNamed("chat")
        self.port: int = top.getServiceNamed("tcp").port.getHost().port
        self.udp = None if options["no-udp"] else top.getServiceNamed("udp")
        self.udpPort: int = self.udp.port.getHost().port if self.udp else 0
        self.web = None if options["no-web"] else top.getServiceNamed("web")
        self.webPort: int = self.web.port.getHost().port if self.web else 0

    async def stop(self) -> None:
        if self.top.running:
            await self.top.stopService()


class UDPClients:
    """
    Makes UDP test clients and closes them all after the test.
    """

    def __init__(self) -> None:
        self.clients: list = []

    def _keep(self, client):
        self.clients.append(client)
        return client

    async def raw(self, port: int):
        return self._keep(await udpwire.rawClient(port))

    async def reliable(self, port: int, seed: int | None = None):
        return self._keep(await udpwire.udpClient(port, seed))

    async def loggedIn(self, port: int, name: str, password: str = "secret"):
        client = self._keep(await udpwire.udpClient(port))
        return await udpwire.logIn(client, name, password)


@pytest_twisted.async_yield_fixture
async def udp() -> AsyncIterator[UDPClients]:
    clients = UDPClients()
    yield clients
    for client in clients.clients:
        if client.transport is not None and client.transport.connected:
            await client.close()


StartServer = Callable[..., Awaitable[Server]]


@pytest_twisted.async_yield_fixture
async def startServer(
    tmp_path: Path, passwords: Passwords, udp: UDPClients
) -> AsyncIterator[StartServer]:
    """
    Start servers with extra options; all are stopped after the test, while
    its UDP clients are still there to acknowledge the goodbye.
    """
    from twisted.internet import reactor

    servers: list[Server] = []

    async def start(*args: str, udp: dict | None = None) -> Server:
        options = Options()
        options.parseOptions(
            [
                "--port",
                "0",
                "--interface",
                "127.0.0.1",
                "--db",
                str(tmp_path / "chat.sqlite"),
                *args,
            ]
        )
        # UDP on test timings (`udp` overrides): clients that stop
        # acknowledging are waited for briefly on shutdown, not 2 s.
        udpTimings = UDPTimings(**{**TEST_UDP_TIMINGS, **(udp or {})})
        top = buildService(options, reactor, passwords, udpTimings)
        top.startService()
        server = Server(top, options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest_twisted.async_yield_fixture
async def server(startServer: StartServer) -> AsyncIterator[Server]:
    yield await startServer()


@pytest.fixture(scope="module")
def postgres() -> Iterator[pgserver.PostgresServer]:
    """
    Our own PostgreSQL cluster (L{chatroom.bench.pgserver}) on loopback, one
    per test module (initdb is slow), removed at the module's end. Tests make
    a database of their own in it.
    """
    need(
        pgserver.installed(),
        f"PostgreSQL ({pgserver.BINARIES} has no postgres)",
        "apt-get install postgresql",
    )
    server = pgserver.PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def redis() -> Iterator[redisserver.RedisServer]:
    """
    Our own redis-server (L{chatroom.bench.redisserver}) on loopback, one per test.
    """
    need(redisserver.installed(), "redis-server", "apt-get install redis-server")
    server = redisserver.RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(params=STREAMS, ids=lambda stream: stream.name)
def stream(request: pytest.FixtureRequest) -> Stream:
    """
    Each stream transport in turn (TCP, WEB): the test runs once over each.
    """
    return request.param
