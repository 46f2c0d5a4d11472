"""
A real C{twistd chatroom} with its IRC listener on, for the IRC tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.wire import ServerProcess, twistdServer

IRC_OPTIONS = ("--irc=tcp:0:interface=127.0.0.1", "--irc-server-name=irc.test", "--no-web")


@pytest.fixture(scope="module")
def ircHome(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """
    The server's directory (its database is C{chat.sqlite} there).
    """
    return tmp_path_factory.mktemp("irc")


@pytest.fixture(scope="module")
def ircServer(ircHome: Path) -> Iterator[ServerProcess]:
    server = twistdServer(ircHome, *IRC_OPTIONS)
    yield server
    server.stop()
