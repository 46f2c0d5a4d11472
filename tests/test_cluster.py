"""
Several nodes, one room (C{--redis}, protocol 1.1 section 10): real C{twistd chatroom} nodes
sharing a real Redis (C{tests/redisserver.py}) and a real PostgreSQL (C{tests/pgserver.py}),
driven over real sockets: users on different nodes chat, race for one name, see a killed node's
users leave once, and keep their sessions through Redis going away and coming back.

CI installs redis-server and PostgreSQL (C{.ci/system-packages}): there, a missing one fails
instead of skipping.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pgserver
import pytest
import redisserver
from wire import BlockingClient, installed, twistdServer

_names = itertools.count()

#: The nodes' --node-timeout in these tests: short, so a death is seen quickly.
NODE_TIMEOUT = 2.0

#: Seconds a test waits for something that should come (generous: the machine is shared).
WAIT = 15.0


def _need(present: bool, what: str, install: str) -> None:
    if not present:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {what}")
        pytest.skip(f"{what} is not installed ({install})")


@pytest.fixture(scope="module")
def postgres() -> Iterator[pgserver.PostgresServer]:
    _need(pgserver.installed(), "PostgreSQL", "apt-get install postgresql")
    server = pgserver.PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def redis() -> Iterator[redisserver.RedisServer]:
    _need(redisserver.installed(), "redis-server", "apt-get install redis-server")
    server = redisserver.RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def cluster(postgres, redis, tmp_path) -> Iterator[Cluster]:
    db = postgres.createDatabase(f"cluster{os.getpid()}_{next(_names)}")
    nodes = Cluster(tmp_path, db, redis)
    try:
        yield nodes
    finally:
        nodes.stop()


class Cluster:
    """
    Nodes started on demand, all on one database and one Redis; stopped by their PIDs.
    """

    def __init__(self, directory: Path, db: str, redis: redisserver.RedisServer) -> None:
        self.directory = directory
        self.db = db
        self.redis = redis
        self.nodes: list = []
        self.clients: list[Client] = []

    def node(self, *options: str):
        where = self.directory / f"node{len(self.nodes)}"
        where.mkdir()
        node = twistdServer(
            where,
            f"--db={self.db}",
            f"--redis={self.redis.url}",
            f"--node-timeout={NODE_TIMEOUT:g}",
            "--no-udp",
            *options,
        )
        self.nodes.append(node)
        node.waitForLog("cluster: node")
        return node

    def login(self, node, name: str, password: str = "pw") -> Client:
        client = Client(node.ports["TCP"])
        self.clients.append(client)
        client.expect("C HELLO chatroom 1 TCP")
        client.send(f"C LOGIN {name}", f"C PASS {password}")
        assert client.next().startswith("C PASSWORD ")
        welcome = client.next()
        assert welcome.startswith(f"C WELCOME {name} TCP"), welcome
        return client

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        for node in self.nodes:
            node.stop()


class Client(BlockingClient):
    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.sock.settimeout(WAIT)

    def until(self, wanted: str) -> list[str]:
        """
        Frames up to and including C{wanted}.
        """
        seen = []
        while (frame := self.next()) != wanted:
            seen.append(frame)
        return [*seen, frame]

    def quiet(self, seconds: float) -> list[str]:
        """
        What arrives within C{seconds}, expecting it to be nothing.
        """
        self.sock.settimeout(seconds)
        try:
            return [self.next()]
        except (TimeoutError, socket.timeout):
            return []
        finally:
            self.sock.settimeout(WAIT)


def test_users_on_two_nodes_chat(cluster):
    """
    PM, DM, WHO, JOIN and LEAVE between users on different nodes, as if on one.
    """
    a, b = cluster.node(), cluster.node()
    alice = cluster.login(a, "alice")
    bob = cluster.login(b, "bob")
    alice.expect("C JOIN bob TCP")
    alice.send("C WHO")
    alice.expect("C USERS alice:TCP bob:TCP")
    bob.send("C WHO")
    bob.expect("C USERS alice:TCP bob:TCP")
    alice.send("C PM", "D hello from a")
    alice.expect("C ACK PM", "C OK PM 1")
    bob.expect("D PM alice TCP hello from a")
    bob.send("C DM", "D alice psst")
    bob.expect("C USERS alice:TCP bob:TCP", "C OK DM alice")
    alice.expect("D DM bob TCP psst")
    carol = cluster.login(b, "carol")
    alice.expect("C JOIN carol TCP")
    bob.expect("C JOIN carol TCP")
    carol.send("C PM", "D hi all")
    carol.expect("C ACK PM", "C OK PM 2")
    alice.expect("D PM carol TCP hi all")
    bob.expect("D PM carol TCP hi all")
    carol.send("C EX")
    carol.expect("C BYE EXIT")
    alice.expect("C LEAVE carol TCP EXIT")
    bob.expect("C LEAVE carol TCP EXIT")
    assert alice.quiet(0.5) == [] and bob.quiet(0.1) == []


def test_a_name_is_taken_once_across_nodes(cluster):
    """
    Two logins for one name (or its look-alike) on two nodes: one gets it, the other NAME_TAKEN.
    """
    a, b = cluster.node(), cluster.node()
    first, second = Client(a.ports["TCP"]), Client(b.ports["TCP"])
    cluster.clients += [first, second]
    for client in (first, second):
        client.expect("C HELLO chatroom 1 TCP")
    # Sent at once: whichever Redis serves first wins.
    first.send("C LOGIN dave")
    second.send("C LOGIN Dave")
    answers = sorted([first.next(), second.next()])
    assert answers[0] == "C ERR NAME_TAKEN Dave is already in use" or answers[0].startswith(
        "C ERR NAME_TAKEN dave"
    ), answers
    assert answers[1] == "C PASSWORD NEW", answers
    # A look-alike is refused from the other node too.
    alice = cluster.login(a, "alice")
    look = Client(b.ports["TCP"])
    cluster.clients.append(look)
    look.expect("C HELLO chatroom 1 TCP")
    look.send("C LOGIN aIice")
    assert look.next() == "C ERR NAME_TAKEN aIice looks like alice, already in use"
    alice.close()
