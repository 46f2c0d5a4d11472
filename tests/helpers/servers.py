"""
Real C{twistd chatroom} processes for the client's tests: one that can be
stopped and started again on the same ports, and a UDP port nobody listens on.
"""

from __future__ import annotations

import socket
from pathlib import Path

from helpers.wire import ServerProcess, pipedClient, twistdServer


class Restartable:
    """
    A twistd server that can be stopped and started again on its ports.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.server: ServerProcess = twistdServer(directory)
        self.ports = self.server.ports

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server = twistdServer(
            self.directory,
            f"--port={self.ports['TCP']}",
            f"--udp-port={self.ports['UDP']}",
            f"--web=tcp:{self.ports['WEB']}:interface=127.0.0.1",
        )
        assert self.server.ports == self.ports

    def log(self) -> str:
        return self.server.log()


def pipedSay(server: Restartable, name: str, text: str) -> None:
    """
    C{name} says C{text} to the room, from a piped chatclient over TCP.
    """
    status, out = pipedClient(server.ports["TCP"], name, f"pw\nPM\n{text}\nEX\n")
    assert status == 0 and "Sent to" in out, out


def freeUDPPort() -> int:
    """
    A UDP port on 127.0.0.1 where, a moment ago, nothing was bound.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
