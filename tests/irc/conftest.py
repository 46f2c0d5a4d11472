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
def ircServer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory: Path = tmp_path_factory.mktemp("irc")
    server = twistdServer(directory, *IRC_OPTIONS)
    yield server
    server.stop()
