"""
The two stream transports, TCP and WEB, behind one face, for scenarios that
must go the same way over either: a test takes the C{stream} fixture
(C{conftest.py}) and runs once per transport.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpers import wire, wswire


@dataclass(frozen=True)
class Stream:
    """
    One stream transport: where a server listens for it, and its clients.
    """

    #: As the server names it: C{C HELLO chatroom 1 <name>}, C{C JOIN alice <name>}.
    name: str

    def port(self, server: Any) -> int:
        """
        The port C{server} (a L{conftest.Server}) listens on for this transport.
        """
        return server.port if self.name == "TCP" else server.webPort

    async def connect(self, port: int) -> wire.LineClient | wswire.WSClient:
        """
        A client connected to C{port}, nothing read yet.
        """
        if self.name == "TCP":
            return await wire.connect(port)
        return await wswire.connect(port)

    async def loggedIn(
        self, port: int, name: str, password: str = "secret"
    ) -> wire.LineClient | wswire.WSClient:
        """
        A client that registered (or logged in as) C{name}, past its WELCOME.
        """
        if self.name == "TCP":
            return await wire.loggedIn(port, name, password)
        return await wswire.loggedIn(port, name, password)


STREAMS = (Stream("TCP"), Stream("WEB"))
