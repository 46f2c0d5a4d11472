"""
The client, C{chatclient}: its conversation machine and its transports
without I/O, and real C{chatclient} processes (piped, on a pseudo-terminal,
over TLS, in Turkish) against real C{twistd chatroom} processes.

The fixtures here start those servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.servers import Restartable
from helpers.wire import ServerProcess, twistdServer


@pytest.fixture(autouse=True)
def knownServersOfTheTest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """
    C{chatclient --tls} keeps the servers it trusts under C{XDG_CONFIG_HOME}:
    each test has its own, never the user's.
    """
    home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """
    A real C{twistd -n chatroom} process in the test's directory, stopped after it.
    """
    server = twistdServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[Restartable]:
    """
    A real C{twistd -n chatroom} process the test may stop and start again on the same ports.
    """
    server = Restartable(tmp_path)
    yield server
    server.stop()
