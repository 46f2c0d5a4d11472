"""
Public message history (protocol 1.1), over real sockets: C{C HISTORY}
order, limits and bounds, C{--history 0}, and history kept across a
restart, in-process and by a real twistd process stopped with SIGTERM.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
import pytest_twisted
from helpers.conversation import ENTRY, history, say, texts
from helpers.wire import BlockingClient, blockingLoggedIn, connect, loggedIn, twistdServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatroom.history import timestamp


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
    await say(alice, "one", "two", "three  with spaces", "four", "Gökhan sagt: fünf")
    after = time.time()
    for _ in range(5):
        assert (await bob.next()).startswith("D PM alice TCP ")
    entries = await history(bob)
    assert texts(entries) == ["three  with spaces", "four", "Gökhan sagt: fünf"]
    assert {(sender, transport) for _, sender, transport, _ in entries} == {("alice", "TCP")}
    # The room's clock, in UTC, to the millisecond.
    first = timestamp(int(before * 1000) - 1)
    last = timestamp(int(after * 1000) + 1)
    assert all(first <= at <= last for at, *_ in entries), (first, entries, last)
    assert texts(await history(bob, "C HISTORY 2")) == ["four", "Gökhan sagt: fünf"]
    assert texts(await history(bob, "C HISTORY 99")) == texts(entries)
    assert texts(await history(bob, "C HISTORY 99999999999999")) == texts(entries)
    assert await history(bob, "C HISTORY 0") == []
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
    await say(alice, "kept for now")
    alice.close()
    await server.stop()
    server = await startServer("--history", "0")
    alice = await loggedIn(server.port, "alice")
    await say(alice, "not kept")
    assert await history(alice) == []
    alice.close()
    await server.stop()
    db = sqlite3.connect(tmp_path / "chat.sqlite")
    assert db.execute("SELECT count(*) FROM history").fetchone() == (0,)
    db.close()


@pytest_twisted.ensureDeferred
async def test_history_across_a_restart_and_trimmed_on_disk(startServer, tmp_path):
    server = await startServer("--history", "4")
    alice = await loggedIn(server.port, "alice")
    await say(alice, *(f"m{n}" for n in range(6)))
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
    assert texts(await history(bob)) == ["m3", "m4", "m5"]
    await say(bob, "after")
    assert texts(await history(bob)) == ["m4", "m5", "after"]
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
        alice = blockingLoggedIn(server.ports["TCP"], "alice")
        _blockingSay(alice, ["before", "the", "stop"])
        alice.close()
    finally:
        assert server.stop() == 0  # a SIGTERM stop is a clean one
    assert "history: " in server.log()
    server = twistdServer(tmp_path)
    try:
        bob = blockingLoggedIn(server.ports["TCP"], "bob")
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
    client = blockingLoggedIn(server.ports["TCP"], "alice")
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
