"""
C{chatroom-admin}: real processes (piped, at a pseudo-terminal) on a real
SQLite file and a real PostgreSQL database, alone and beside a running
server.

The fixtures here run the command and name the databases it works on
(C{helpers.admin} has the rest).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.admin import freshPostgres, runAdmin

Admin = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def admin(tmp_path: Path) -> Admin:
    """
    Run C{chatroom-admin} with the words given in the test's directory
    (C{input=}: its piped standard input, none by default).
    """

    def run(*args: str, input: str = "") -> subprocess.CompletedProcess[str]:
        return runAdmin(tmp_path, *args, input=input)

    return run


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """
    Where the test's chatroom database is to be, on each engine in turn: an
    SQLite file (not made yet) or an empty PostgreSQL database.
    """
    if request.param == "sqlite":
        return str(tmp_path / "chat.sqlite")
    return freshPostgres(request.getfixturevalue("postgres"))
