"""
What a clustered delivery and a list of users cost (issue 23), over real processes: real
C{twistd chatroom} nodes, a real Redis and a real PostgreSQL, as in C{test_cluster}. Redis's own
command statistics (C{INFO commandstats}, which count the commands scripts run too) show what
reached it.

  - A sender's pipelined public messages are published together (far fewer C{PUBLISH}es than
    messages), and yet every answer comes in order, a C{C WHO} among them waits for the answers
    before it, and every receiver on both nodes gets every message in order.
  - C{C WHO} is answered from each node's presence mirror (no C{HVALS} of the presence hash per
    ask), which follows joins and leaves on the other nodes and is read again after Redis
    restarted empty.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterator

import pytest
from helpers.cluster import WAIT, Client, Cluster

from chatroom.bench import pgserver, redisserver

_names = itertools.count()


@pytest.fixture
def costs(
    postgres: pgserver.PostgresServer, redis: redisserver.RedisServer, tmp_path
) -> Iterator[Cluster]:
    db = postgres.createDatabase(f"costs{os.getpid()}_{next(_names)}")
    nodes = Cluster(tmp_path, db, redis)
    try:
        yield nodes
    finally:
        nodes.stop()


def _calls(redis: redisserver.RedisServer, command: str) -> int:
    """
    How many times Redis ran C{command} since its statistics were reset.
    """
    stats = redis.command("INFO", "commandstats").decode("utf-8", "replace")
    found = re.search(rf"cmdstat_{command}:calls=(\d+)", stats)
    return int(found.group(1)) if found else 0


def _who(client: Client, expected: str, bound: float = WAIT) -> None:
    """
    C{C WHO} until it answers C{expected} (Redis may be coming back), within C{bound} seconds.
    """
    deadline = time.monotonic() + bound
    while True:
        client.send("C WHO")
        answer = client.next()
        while answer.startswith(("C JOIN ", "C LEAVE ")):
            answer = client.next()
        if answer == expected:
            return
        assert time.monotonic() < deadline, f"still {answer!r}, not {expected!r}"
        time.sleep(0.2)


def test_pipelined_public_messages_are_published_together_and_answered_in_order(costs):
    a, b = costs.node("--msg-rate=0"), costs.node()
    near = costs.login(a, "near")
    far = costs.login(b, "far")
    near.expect("C JOIN far TCP")
    sender = costs.login(a, "sender")
    near.expect("C JOIN sender TCP")
    far.expect("C JOIN sender TCP")
    costs.redis.command("CONFIG", "RESETSTAT")
    count = 60
    lines: list[str] = []
    for i in range(count):
        lines += ["C PM", f"D message {i}"]
        if i == count // 2:
            lines.append("C WHO")
    lines.append("C PING done")
    sender.send(*lines)
    expected: list[str] = []
    for i in range(count):
        expected += ["C ACK PM", "C OK PM 2"]
        if i == count // 2:
            expected.append("C USERS far:TCP near:TCP sender:TCP")
    expected.append("C PONG done")
    assert [sender.next() for _ in expected] == expected
    for receiver in (near, far):
        assert [receiver.next() for _ in range(count)] == [
            f"D PM sender TCP message {i}" for i in range(count)
        ]
    published = _calls(costs.redis, "publish")
    assert 1 <= published <= count // 4, f"{published} PUBLISHes for {count} messages"


def test_an_error_among_pipelined_messages_keeps_its_place(costs):
    a = costs.node()
    sender = costs.login(a, "sender")
    sender.send("C PM", "D first", "C PM", "D", "C PM", "D third", "C PING end")
    assert [sender.next() for _ in range(7)] == [
        "C ACK PM",
        "C OK PM 0",
        "C ACK PM",
        "C ERR BAD_TEXT the message is empty",
        "C ACK PM",
        "C OK PM 0",
        "C PONG end",
    ]


def test_who_comes_from_the_mirror_and_follows_the_other_nodes(costs):
    a, b = costs.node(), costs.node()
    alice = costs.login(a, "alice")
    bob = costs.login(b, "bob")
    carol = costs.login(b, "carol")
    alice.expect("C JOIN bob TCP", "C JOIN carol TCP")
    bob.expect("C JOIN carol TCP")
    _who(alice, "C USERS alice:TCP bob:TCP carol:TCP")
    costs.redis.command("CONFIG", "RESETSTAT")
    for _ in range(20):
        alice.send("C WHO")
        alice.expect("C USERS alice:TCP bob:TCP carol:TCP")
    bob.send("C DM", "D alice hi")
    bob.expect("C USERS alice:TCP bob:TCP carol:TCP", "C OK DM alice")
    alice.expect("D DM bob TCP hi")
    assert _calls(costs.redis, "hvals") == 0, "C WHO read the presence hash"
    carol.send("C EX")
    carol.expect("C BYE EXIT")
    alice.expect("C LEAVE carol TCP EXIT")
    bob.expect("C LEAVE carol TCP EXIT")
    alice.send("C WHO")
    alice.expect("C USERS alice:TCP bob:TCP")

    # Restarted empty: each node reads the hash once again, and learns of the others.
    costs.redis.stop()
    costs.redis.start()
    _who(alice, "C USERS alice:TCP bob:TCP", bound=WAIT * 2)
    _who(bob, "C USERS alice:TCP bob:TCP", bound=WAIT * 2)
    dan = costs.login(b, "dan")
    alice.expect("C JOIN dan TCP")
    bob.expect("C JOIN dan TCP")
    before = _calls(costs.redis, "hvals")
    for _ in range(10):
        alice.send("C WHO")
        alice.expect("C USERS alice:TCP bob:TCP dan:TCP")
    assert _calls(costs.redis, "hvals") == before
    dan.close()
