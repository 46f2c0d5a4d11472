"""
C{chatroom-admin} beside a real running C{twistd chatroom}, on the same SQLite
file or PostgreSQL database: an account it makes can log in at once, and a
password it resets is the one asked at the next login, while the server runs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.admin import freshPostgres
from helpers.wire import BlockingClient, ServerProcess, twistdServer

Admin = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(params=["sqlite", "postgresql"])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[ServerProcess, str]:
    """
    A real server on each engine in turn, and the database it uses (for chatroom-admin).
    """
    if request.param == "sqlite":
        db = str(tmp_path / "chat.sqlite")
    else:
        db = freshPostgres(request.getfixturevalue("postgres"))
    server = twistdServer(tmp_path, f"--db={db}")
    request.addfinalizer(server.stop)
    return server, db


def login(port: int, name: str, password: str) -> tuple[BlockingClient, list[str]]:
    """
    A TCP session that tried to log in as C{name}; the frames it got after C{C PASS}.
    """
    client = BlockingClient(port)
    client.expect("C HELLO chatroom 1 TCP")
    client.send(f"C LOGIN {name}", f"C PASS {password}")
    return client, [client.next(), client.next()]


def test_an_account_made_while_the_server_runs(
    admin: Admin, running: tuple[ServerProcess, str]
) -> None:
    server, db = running
    made = admin("--db", db, "accounts", "create", "Alice", input="first pass\n")
    assert made.returncode == 0, made.stderr
    client, frames = login(server.ports["TCP"], "alice", "first pass")
    assert frames[0] == "C PASSWORD EXISTING"
    assert frames[1].startswith("C WELCOME Alice TCP ")
    client.close()

    reset = admin("--db", db, "accounts", "reset-password", "alice", input="second pass\n")
    assert reset.returncode == 0, reset.stderr
    client, frames = login(server.ports["TCP"], "alice", "first pass")
    assert frames[0] == "C PASSWORD EXISTING"
    assert frames[1].startswith("C ERR BAD_PASSWORD")
    client.close()
    client, frames = login(server.ports["TCP"], "alice", "second pass")
    assert frames[1].startswith("C WELCOME Alice TCP ")
    client.close()
