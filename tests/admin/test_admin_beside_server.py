"""
C{chatroom-admin} beside a real running C{twistd chatroom}, on the same SQLite
file or PostgreSQL database: an account it makes can log in at once, a
password it resets is the one asked at the next login, and within 5 seconds
(section 12) a ban it adds or an account it deletes ends that user's session,
and a role it gives shows in C{C USERS}.
"""

from __future__ import annotations

import subprocess
import time
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


#: Section 12: a change made by chatroom-admin reaches running servers within this many seconds.
REACH = 5.0


def framesUntil(client: BlockingClient, wanted: str, seconds: float = REACH) -> list[str]:
    """
    The frames C{client} gets until one that starts with C{wanted}, which must come within
    C{seconds}.
    """
    deadline = time.monotonic() + seconds
    frames: list[str] = []
    while not (frames and frames[-1].startswith(wanted)):
        left = deadline - time.monotonic()
        assert left > 0, f"no {wanted!r} within {seconds:g} s: {frames}"
        client.sock.settimeout(left)
        try:
            frames.append(client.next())
        except TimeoutError:
            raise AssertionError(f"no {wanted!r} within {seconds:g} s: {frames}") from None
    return frames


def loggedIn(port: int, name: str) -> BlockingClient:
    client, frames = login(port, name, "pw")
    assert frames[1].startswith(f"C WELCOME {name} TCP "), frames
    return client


def test_a_ban_or_a_delete_ends_the_session(
    admin: Admin, running: tuple[ServerProcess, str]
) -> None:
    server, db = running
    port = server.ports["TCP"]
    for name in ("alice", "bob", "carol"):
        assert admin("--db", db, "accounts", "create", name, input="pw\n").returncode == 0
    carol = loggedIn(port, "carol")
    alice = loggedIn(port, "alice")
    bob = loggedIn(port, "bob")

    banned = admin("--db", db, "bans", "add", "alice", "1h", "spam")
    assert banned.returncode == 0, banned.stderr
    assert framesUntil(alice, "C BYE")[-1] == "C BYE BANNED"
    assert alice.atEOF()
    assert "C LEAVE alice TCP BANNED" in framesUntil(carol, "C LEAVE alice")
    again = BlockingClient(port)
    again.expect("C HELLO chatroom 1 TCP")
    again.send("C LOGIN alice")
    refusal = again.next()
    assert refusal.startswith("C ERR BANNED ") and refusal.endswith(" spam"), refusal
    again.close()

    deleted = admin("--db", db, "accounts", "delete", "bob")
    assert deleted.returncode == 0, deleted.stderr
    assert framesUntil(bob, "C BYE")[-1] == "C BYE KICKED"
    assert bob.atEOF()
    assert "C LEAVE bob TCP KICKED" in framesUntil(carol, "C LEAVE bob")
    carol.close()


def test_a_role_shows_in_the_user_list(admin: Admin, running: tuple[ServerProcess, str]) -> None:
    server, db = running
    port = server.ports["TCP"]
    for name in ("alice", "carol"):
        assert admin("--db", db, "accounts", "create", name, input="pw\n").returncode == 0
    alice = loggedIn(port, "alice")
    carol = loggedIn(port, "carol")
    alice.send("C WHO")
    assert framesUntil(alice, "C USERS")[-1] == "C USERS alice:TCP carol:TCP"

    made = admin("--db", db, "accounts", "role", "carol", "moderator")
    assert made.returncode == 0, made.stderr
    deadline = time.monotonic() + REACH
    while True:
        alice.send("C WHO")
        users = framesUntil(alice, "C USERS", deadline - time.monotonic())[-1]
        if users == "C USERS alice:TCP @carol:TCP":
            break
        assert users == "C USERS alice:TCP carol:TCP", users
        time.sleep(0.1)
    alice.close()
    carol.close()


def publicAnswer(client: BlockingClient, text: str, deadline: float) -> str:
    """
    Send the public message C{text}; the server's answer to it: C{C OK PM <count>} or an error.
    """
    client.send("C PM", f"D {text}")
    while True:
        frame = framesUntil(client, "C ", deadline - time.monotonic())[-1]
        if frame != "C ACK PM":
            return frame


def test_a_mute_holds_and_lifts(admin: Admin, running: tuple[ServerProcess, str]) -> None:
    server, db = running
    port = server.ports["TCP"]
    assert admin("--db", db, "accounts", "create", "alice", input="pw\n").returncode == 0
    alice = loggedIn(port, "alice")
    assert publicAnswer(alice, "before", time.monotonic() + REACH).startswith("C OK PM ")
    assert admin("--db", db, "bans", "add", "alice", "10m", "--mute").returncode == 0
    deadline = time.monotonic() + REACH
    while not (answer := publicAnswer(alice, "hello?", deadline)).startswith("C ERR MUTED "):
        assert answer.startswith("C OK PM "), answer
        time.sleep(0.1)
    assert admin("--db", db, "bans", "remove", "alice", "--mute").returncode == 0
    deadline = time.monotonic() + REACH
    while not (answer := publicAnswer(alice, "back", deadline)).startswith("C OK PM "):
        assert answer.startswith("C ERR MUTED "), answer
        time.sleep(0.1)
    alice.close()
