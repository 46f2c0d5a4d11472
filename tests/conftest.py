"""
Fixtures: real servers on 127.0.0.1, port 0, with a real SQLite file.

The reactor is never imported at module level here: pytest-twisted installs
it from --reactor, and an early import would fix the default one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_twisted

pytest.register_assert_rewrite("wire")

from argon2 import PasswordHasher

from chatroom.passwords import Passwords
from chatroom.service import ChatService
from chatroom.tap import Options, buildService


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
        self.chat: ChatService = top.getServiceNamed("chat")
        self.port: int = top.getServiceNamed("tcp").port.getHost().port

    async def stop(self) -> None:
        if self.top.running:
            await self.top.stopService()


StartServer = Callable[..., Awaitable[Server]]


@pytest_twisted.async_yield_fixture
async def startServer(tmp_path: Path, passwords: Passwords) -> AsyncIterator[StartServer]:
    """
    Start servers with extra options; all are stopped after the test.
    """
    from twisted.internet import reactor

    servers: list[Server] = []

    async def start(*args: str, chat: dict | None = None) -> Server:
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
        top = buildService(options, reactor, passwords)
        for attribute, value in (chat or {}).items():
            setattr(top.getServiceNamed("chat"), attribute, value)
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
