"""
C{--redis sentinel://…} (issue 23) over real processes: a master and its replica (Debian's
C{redis-server}), three C{redis-sentinel}s watching the master, two C{twistd chatroom} nodes
and a PostgreSQL, all on loopback. The master is killed with C{SIGKILL} (by the PID the test
started) while users on both nodes keep talking: the sentinels promote the replica, the nodes
follow it by themselves, and the room chats again within the failover time plus
C{--node-timeout}; no public message is half delivered (each one its sender was told was said
reached every other user; the others were refused with C{ERR UNAVAILABLE}).

CI installs redis-sentinel (C{.ci/system-packages}): there, a missing one fails instead of
skipping.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from helpers import sentinels
from helpers.cluster import NODE_TIMEOUT, WAIT, Client, Cluster
from helpers.system import need

from chatroom.bench import pgserver, redisserver


@pytest.fixture
def failover(postgres: pgserver.PostgresServer, tmp_path) -> Iterator[tuple[Cluster, object]]:
    need(sentinels.installed(), "redis-sentinel", "apt-get install redis-sentinel")
    master = redisserver.RedisServer()
    group = sentinels.SentinelSet(tmp_path / "sentinels", 0)
    cluster = None
    try:
        master.start()
        group = sentinels.SentinelSet(tmp_path / "sentinels", master.port)
        (tmp_path / "sentinels").mkdir()
        group.start()
        db = postgres.createDatabase(f"sentinel{os.getpid()}_{time.monotonic_ns()}")
        cluster = Cluster(tmp_path, db, master)
        yield cluster, group
    finally:
        if cluster is not None:
            cluster.stop()
        group.stop()
        master.remove()


class Talker:
    """
    A user who says numbered public messages, one at a time, and keeps what others said.
    """

    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name
        self.said: list[str] = []  # answered C OK PM
        self.refused: list[str] = []  # answered C ERR UNAVAILABLE
        self.heard: list[str] = []

    def _answer(self) -> str:
        while True:
            line = self.client.next()
            if line.startswith("D PM "):
                self.heard.append(line)
            elif not line.startswith(("C JOIN ", "C LEAVE ")):
                return line

    def say(self, text: str) -> bool:
        self.client.send("C PM", f"D {text}")
        assert self._answer() == "C ACK PM"
        answer = self._answer()
        if answer.startswith("C OK PM "):
            self.said.append(text)
            return True
        assert answer.startswith("C ERR UNAVAILABLE "), answer
        self.refused.append(text)
        return False

    def drain(self) -> None:
        while line := self.client.quiet(1.0):
            if line[0].startswith("D PM "):
                self.heard.append(line[0])


def test_the_room_follows_a_failover(failover):
    cluster, group = failover
    options = (f"--redis={group.url}", "--msg-rate=0")
    a, b = cluster.node(*options), cluster.node(*options)
    alice = Talker(cluster.login(a, "alice"), "alice")
    carol = Talker(cluster.login(a, "carol"), "carol")
    bob = Talker(cluster.login(b, "bob"), "bob")
    assert alice.say("before 1") and bob.say("before 2")

    killedAt = time.monotonic()
    assert cluster.redis.process is not None
    cluster.redis.process.kill()  # SIGKILL, by the PID we started
    cluster.redis.process.wait(timeout=WAIT)
    promotedAt = None
    back: dict[str, float] = {}
    count = 0
    deadline = killedAt + 60
    while len(back) < 2 or promotedAt is None:
        assert time.monotonic() < deadline, f"not back within 60 s:\n{group.logs()}"
        for talker in (alice, bob):
            count += 1
            if talker.say(f"{talker.name} {count}") and talker.name not in back:
                back[talker.name] = time.monotonic()
        if promotedAt is None and group.masterPortNow() == group.replicaPort:
            promotedAt = time.monotonic()
        time.sleep(0.1)
    failoverTime = promotedAt - killedAt
    chatting = max(back.values()) - killedAt
    print(f"promoted {failoverTime:.2f} s after the kill; the room chats {chatting:.2f} s after")
    assert chatting <= failoverTime + NODE_TIMEOUT, (chatting, failoverTime)
    assert alice.refused or bob.refused, "nothing was refused: was the master really lost?"

    # A few more, then everything said is everywhere: nothing half delivered.
    for i in range(5):
        assert alice.say(f"after {i}") and bob.say(f"after {i}")
    for talker in (alice, bob, carol):
        talker.drain()
    for sender in (alice, bob):
        for listener in (alice, bob, carol):
            if listener is sender:
                continue
            missing = [
                t for t in sender.said if f"D PM {sender.name} TCP {t}" not in listener.heard
            ]
            assert missing == [], f"{listener.name} never got {missing} from {sender.name}"

    # Presence was told to the new master, and every node lists everyone.
    present = sentinels.ask(group.replicaPort, "HVALS", "chatroom:present")
    assert all(f'"{name}","TCP"' in present for name in ("alice", "bob", "carol")), present
    for talker in (alice, bob):
        talker.client.send("C WHO")
        assert talker._answer() == "C USERS alice:TCP bob:TCP carol:TCP"
