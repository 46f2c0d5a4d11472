"""
Public message history (protocol 1.1), over real sockets: C{C HISTORY}
order, limits and bounds, C{--history 0}, and history kept across a
restart, in-process and by a real twistd process stopped with SIGTERM.
"""

from __future__ import annotations

import re
import sqlite3
import time
from typing import cast

import pytest
import pytest_twisted
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire import BlockingClient, connect, loggedIn, twistdServer

from chatroom.history import timestamp

#: D HISTORY <time> <from> <transport> <text>, the time in RFC 3339 UTC with milliseconds.
ENTRY = re.compile(r"D HISTORY (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) (\S+) (.*)")


async def _say(client, *texts: str) -> None:
    for text in texts:
        client.send("C PM", f"D {text}")
        await client.expect("C ACK PM")
        assert (await client.next()).startswith("C OK PM ")


async def _history(client, ask: str = "C HISTORY") -> list[tuple[str, str, str, str]]:
    client.send(ask)
    head = await client.next()
    assert head.startswith("C HISTORY "), head
    entries = []
    for _ in range(int(head.split()[2])):
        frame = await client.next()
        match = ENTRY.fullmatch(frame)
        assert match, frame
        entries.append(cast(tuple[str, str, str, str], match.groups()))
    return entries


def _texts(entries) -> list[str]:
    return [entry[3] for entry in entries]


def test_timestamps_are_rfc3339_utc_with_milliseconds():
    assert timestamp(1795258327123) == "2026-11-21T10:52:07.123Z"
    assert timestamp(0) == "1970-01-01T00:00:00.000Z"


@pytest_twisted.ensureDeferred
async def test_history_order_limits_and_bounds(startServer):
    server = await startServer("--history", "3")
    alice = await loggedIn(server.port, "alice")
    bob = await loggedIn(server.port, "bob")
    await alice.expect("C JOIN bob TCP")
    before = time.time()
    await _say(alice, "one", "two", "three  with spaces", "four", "Gökhan sagt: fünf")
    after = time.time()
    for _ in range(5):
        assert (await bob.next()).startswith("D PM alice TCP ")
    entries = await _history(bob)
    assert _texts(entries) == ["three  with spaces", "four", "Gökhan sagt: fünf"]
    assert {(sender, transport) for _, sender, transport, _ in entries} == {("alice", "TCP")}
    # The room's clock, in UTC, to the millisecond.
    first = timestamp(int(before * 1000) - 1)
    last = timestamp(int(after * 1000) + 1)
    assert all(first <= at <= last for at, *_ in entries), (first, entries, last)
    assert _texts(await _history(bob, "C HISTORY 2")) == ["four", "Gökhan sagt: fünf"]
    assert _texts(await _history(bob, "C HISTORY 99")) == _texts(entries)
    assert _texts(await _history(bob, "C HISTORY 99999999999999")) == _texts(entries)
    assert await _history(bob, "C HISTORY 0") == []
    for bad in ["C HISTORY -1", "C HISTORY x", "C HISTORY 1 2", "C HISTORY ٣", "C HISTORY 1.5"]:
        bob.send(bad)
        assert (await bob.next()).startswith("C ERR BAD_FRAME "), bad
    # The session goes on, and only logged-in users may ask.
    bob.send("C PING ok")
    await bob.expect("C PONG ok")
    stranger = await connect(server.port)
    await stranger.expect("C HELLO chatroom 1 TCP")
    stranger.send("C HISTORY")
    assert (await stranger.next()).startswith("C ERR STATE ")
    for client in (alice, bob, stranger):
        client.close()


@pytest_twisted.ensureDeferred
async def test_history_off(startServer, tmp_path):
    """
    C{--history 0}: C{C HISTORY 0}, and what an earlier run kept is deleted.
    """
    server = await startServer()
    alice = await loggedIn(server.port, "alice")
    await _say(alice, "kept for now")
    alice.close()
    await server.stop()
    server = await startServer("--history", "0")
    alice = await loggedIn(server.port, "alice")
    await _say(alice, "not kept")
    assert await _history(alice) == []
    alice.close()
    await server.stop()
    db = sqlite3.connect(tmp_path / "chat.sqlite")
    assert db.execute("SELECT count(*) FROM history").fetchone() == (0,)
    db.close()


@pytest_twisted.ensureDeferred
async def test_history_across_a_restart_and_trimmed_on_disk(startServer, tmp_path):
    server = await startServer("--history", "4")
    alice = await loggedIn(server.port, "alice")
    await _say(alice, *(f"m{n}" for n in range(6)))
    alice.close()
    # Stopping writes the last batch.
    await server.stop()
    db = sqlite3.connect(tmp_path / "chat.sqlite")
    assert db.execute("SELECT text FROM history ORDER BY id").fetchall() == [
        ("m2",),
        ("m3",),
        ("m4",),
        ("m5",),
    ]
    db.close()
    server = await startServer("--history", "3")
    bob = await loggedIn(server.port, "bob")
    assert _texts(await _history(bob)) == ["m3", "m4", "m5"]
    await _say(bob, "after")
    assert _texts(await _history(bob)) == ["m4", "m5", "after"]
    bob.close()
    await server.stop()
    db = sqlite3.connect(tmp_path / "chat.sqlite")
    # Deleted, not just hidden.
    assert db.execute("SELECT sender, text FROM history ORDER BY id").fetchall() == [
        ("alice", "m4"),
        ("alice", "m5"),
        ("bob", "after"),
    ]
    db.close()


def _blockingLogin(port: int, name: str) -> BlockingClient:
    client = BlockingClient(port)
    client.expect("C HELLO chatroom 1 TCP")
    client.send(f"C LOGIN {name}", "C PASS secret")
    assert client.next().startswith("C PASSWORD ")
    assert client.next().startswith(f"C WELCOME {name} TCP ")
    return client


def _blockingSay(client: BlockingClient, texts: list[str]) -> None:
    client.send(*(frame for text in texts for frame in ("C PM", f"D {text}")))
    for _ in texts:
        client.expect("C ACK PM")
        assert client.next().startswith("C OK PM ")


def _blockingHistory(client: BlockingClient, ask: str = "C HISTORY") -> list[str]:
    client.send(ask)
    head = client.next()
    assert head.startswith("C HISTORY "), head
    texts = []
    for _ in range(int(head.split()[2])):
        match = ENTRY.fullmatch(client.next())
        assert match
        texts.append(match.group(4))
    return texts


def test_twistd_keeps_history_across_sigterm(tmp_path):
    """
    A real server stopped with SIGTERM right after the last message writes
    its last batch; the next one shows it.
    """
    server = twistdServer(tmp_path)
    try:
        alice = _blockingLogin(server.ports["TCP"], "alice")
        _blockingSay(alice, ["before", "the", "stop"])
        alice.close()
    finally:
        assert server.stop() == 0  # a SIGTERM stop is a clean one
    assert "history: " in server.log()
    server = twistdServer(tmp_path)
    try:
        bob = _blockingLogin(server.ports["TCP"], "bob")
        assert _blockingHistory(bob) == ["before", "the", "stop"]
        bob.close()
    finally:
        server.stop()


SIZE = 12

#: Message texts: anything a frame may carry (no control characters), not empty.
TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f"),
    min_size=1,
    max_size=60,
)


@pytest.fixture(scope="module")
def historyServer(tmp_path_factory):
    """
    One real server for every example, and everything sent to it so far.
    """
    server = twistdServer(tmp_path_factory.mktemp("history"), f"--history={SIZE}", "--msg-rate=0")
    client = _blockingLogin(server.ports["TCP"], "alice")
    yield client, []
    client.close()
    server.stop()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, max_size=2 * SIZE), ask=st.none() | st.integers(0, 2 * SIZE))
def test_history_is_the_tail_of_what_was_sent(historyServer, texts, ask):
    client, sent = historyServer
    _blockingSay(client, texts)
    sent.extend(texts)
    expected = sent[-SIZE:]
    if ask is None:
        assert _blockingHistory(client) == expected
    else:
        assert _blockingHistory(client, f"C HISTORY {ask}") == (expected[-ask:] if ask else [])
