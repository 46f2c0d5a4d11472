"""
Moderation across nodes (C{--redis}): real C{twistd chatroom} nodes on one Redis and one
PostgreSQL. A kick or a ban on one node ends the target's session on the other (through
Redis, not the database: a kick writes nothing there), a banned user is refused on every node,
and a role given in the database shows on every node.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterator

import psycopg
import pytest
from helpers.cluster import Client, Cluster

from chatroom import names
from chatroom.pgconnect import Connection
from chatroom.statements import accounts

_names = itertools.count()

UNTIL = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture
def cluster(postgres, redis, tmp_path) -> Iterator[Cluster]:
    db = postgres.createDatabase(f"modcluster{os.getpid()}_{next(_names)}")
    nodes = Cluster(tmp_path, db, redis)
    try:
        yield nodes
    finally:
        nodes.stop()


def _promote(cluster: Cluster, name: str, role: str, *watchers: Client) -> None:
    """
    Give C{name} C{role} in the database, then wait (bounded) until each watcher's node shows
    it in C{C USERS}.
    """
    with psycopg.connect(cluster.db) as db:
        assert accounts.setRole(Connection(db), names.caseless(name), role)
    for watcher in watchers:
        for _ in range(100):
            watcher.send("C WHO")
            if f"@{name}:" in watcher.next():
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"{name}'s role never showed")


def _until(client: Client, frame: str, limit: int = 50) -> None:
    for _ in range(limit):
        if client.next() == frame:
            return
    raise AssertionError(f"no {frame!r}")


def test_kick_and_ban_end_sessions_on_another_node(cluster):
    a, b = cluster.node(), cluster.node()
    mod = cluster.login(a, "mod")
    bob = cluster.login(b, "bob")
    carol = cluster.login(b, "carol")
    _until(mod, "C JOIN carol TCP")
    _until(bob, "C JOIN carol TCP")
    _promote(cluster, "mod", "moderator", mod, carol)

    started = time.monotonic()
    mod.send("C KICK bob go away")
    mod.expect("C OK KICK bob", "C MOD KICK bob mod - go away")
    _until(bob, "C MOD KICK bob mod - go away")
    bob.expect("C BYE KICKED")
    kicked = time.monotonic() - started
    with pytest.raises(EOFError):
        bob.next()
    _until(carol, "C MOD KICK bob mod - go away")
    carol.expect("C LEAVE bob TCP KICKED")
    mod.expect("C LEAVE bob TCP KICKED")
    # Kicked, not banned: back at once, on either node.
    bob = cluster.login(a, "bob")
    mod.expect("C JOIN bob TCP")
    carol.expect("C JOIN bob TCP")

    started = time.monotonic()
    mod.send("C BAN carol 1h flood")
    mod.expect("C OK BAN carol")
    notice = mod.next()
    assert re.fullmatch(f"C MOD BAN carol mod ({UNTIL}) flood", notice), notice
    carol.expect(notice, "C BYE BANNED")
    banned = time.monotonic() - started
    bob.expect(notice, "C LEAVE carol TCP BANNED")
    mod.expect("C LEAVE carol TCP BANNED")
    until = notice.split()[5]
    for node in (b, a):
        again = Client(node.ports["TCP"])
        cluster.clients.append(again)
        again.expect("C HELLO chatroom 1 TCP")
        again.send("C LOGIN carol")
        again.expect(f"C ERR BANNED {until} flood")
    print(f"across nodes, the target's BYE came after (s): kick {kicked:.3f}, ban {banned:.3f}")

    # A mute made on node a holds for its user on node b (from b's next poll).
    mod.send("C MUTE bob forever")
    mod.expect("C OK MUTE bob", "C MOD MUTE bob mod -")
    bob.expect("C MOD MUTE bob mod -")
    bob.send("C EX")
    bob.expect("C BYE EXIT")
    bob = cluster.login(b, "bob")
    for _ in range(25):
        bob.send("C PM", "D can I?")
        bob.expect("C ACK PM")
        if bob.next() == "C ERR MUTED -":
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the mute never held on node b")
