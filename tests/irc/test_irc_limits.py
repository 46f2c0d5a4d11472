"""
The room's limits over IRC, on a real server with small limits: the login
timeout, the rate limit (every IRC line counts), the client limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.ircwire import IRCClient, registered
from helpers.wire import ServerProcess, twistdServer


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory: Path = tmp_path_factory.mktemp("irc-limits")
    server = twistdServer(
        directory,
        "--irc=tcp:0:interface=127.0.0.1",
        "--irc-server-name=irc.test",
        "--no-web",
        "--login-timeout=1",
        "--msg-rate=2",
        "--msg-burst=10",  # a registration with PASS is 8 frames (see docs/irc.rst)
        "--max-clients=3",
    )
    yield server
    server.stop()


def test_login_timeout(tight: ServerProcess) -> None:
    """
    NICK without USER cannot hold a name: the room's login timeout ends it.
    """
    irc = IRCClient(tight.ports["IRC"])
    irc.send("NICK lingerer")
    assert "timed out" in irc.waitFor("ERROR")
    assert irc.closed()


def test_rate_limit_counts_every_line(tight: ServerProcess) -> None:
    """
    Lines the room has no verb for (PING, MOTD) count too: a burst past the
    limit is refused in its turn, and the lines after it are answered.
    """
    irc = registered(tight.ports["IRC"], "rapid", join=False)
    irc.send(*[f"PING :p{i}" for i in range(12)])  # beyond what is left of the burst
    seen: list[str] = []
    while len(seen) < 12:
        line = irc.next()
        if " PONG " in line or "RATE" in line:
            seen.append(line)
    assert any("RATE" in line for line in seen), seen
    assert any(" PONG " in line for line in seen), seen
    irc.close()


def test_client_limit(tight: ServerProcess) -> None:
    """
    Past --max-clients an IRC connection gets ERROR and is closed.
    """
    held = [IRCClient(tight.ports["IRC"]) for _ in range(3)]
    extra = IRCClient(tight.ports["IRC"])
    line = extra.next()
    assert line.startswith("ERROR :"), line
    assert extra.closed()
    for client in held:
        client.close()
