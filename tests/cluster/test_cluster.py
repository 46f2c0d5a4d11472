"""
Several nodes, one room (C{--redis}, protocol 1.1 section 10): real C{twistd chatroom} nodes
sharing a real Redis (C{chatroom.bench.redisserver}) and a real PostgreSQL
(C{chatroom.bench.pgserver}),
driven over real sockets: users on different nodes chat, race for one name, see a killed node's
users leave once, and keep their sessions through Redis going away and coming back.

CI installs redis-server and PostgreSQL (C{.ci/system-packages}): there, a missing one fails
instead of skipping.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
from helpers.cluster import NODE_TIMEOUT, WAIT, Client, Cluster
from helpers.wire import installed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_names = itertools.count()


@pytest.fixture
def cluster(postgres, redis, tmp_path) -> Iterator[Cluster]:
    db = postgres.createDatabase(f"cluster{os.getpid()}_{next(_names)}")
    nodes = Cluster(tmp_path, db, redis)
    nodes.postgres = postgres
    try:
        yield nodes
    finally:
        nodes.stop()


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


def test_a_killed_nodes_users_leave_once_and_their_names_free(cluster):
    """
    kill -9 of a node: within --node-timeout (plus a beat), each survivor's users see
    C{LEAVE … TIMEOUT} once per user of the dead node, and its names can be taken again.
    """
    a, b, c = cluster.node(), cluster.node(), cluster.node()
    alice = cluster.login(a, "alice")
    carol = cluster.login(c, "carol")
    alice.expect("C JOIN carol TCP")
    bob = cluster.login(b, "bob")
    dan = cluster.login(b, "dan")
    for watcher in (alice, carol):
        watcher.expect("C JOIN bob TCP", "C JOIN dan TCP")
    killed = time.monotonic()
    b.stop(signal.SIGKILL)
    for watcher in (alice, carol):
        assert sorted([watcher.next(), watcher.next()]) == [
            "C LEAVE bob TCP TIMEOUT",
            "C LEAVE dan TCP TIMEOUT",
        ]
    took = time.monotonic() - killed
    assert alice.quiet(NODE_TIMEOUT * 1.5) == [] and carol.quiet(0.1) == []
    bob.close()
    dan.close()
    again = cluster.login(a, "bob")
    carol.expect("C JOIN bob TCP")
    again.send("C WHO")
    again.expect("C USERS alice:TCP bob:TCP carol:TCP")
    print(f"LEAVE TIMEOUT seen {took:.2f} s after kill -9 (--node-timeout {NODE_TIMEOUT:g})")


def test_redis_restarted(cluster):
    """
    Redis stopped: users stay connected, messages and logins get ERR UNAVAILABLE (nothing
    half-delivered); Redis back (empty): the nodes tell it who is here and go on.
    """
    a, b = cluster.node(), cluster.node()
    alice = cluster.login(a, "alice")
    bob = cluster.login(b, "bob")
    alice.expect("C JOIN bob TCP")
    cluster.redis.stop()
    a.waitForLog("ERR UNAVAILABLE until it is back")
    alice.send("C PM", "D lost?")
    alice.expect("C ACK PM")
    assert alice.next().startswith("C ERR UNAVAILABLE ")
    late = Client(b.ports["TCP"])
    cluster.clients.append(late)
    late.expect("C HELLO chatroom 1 TCP")
    late.send("C LOGIN erin")
    assert late.next().startswith("C ERR UNAVAILABLE ")
    assert bob.quiet(0.5) == []
    cluster.redis.start()
    a.waitForLog("cluster: Redis is back")
    b.waitForLog("cluster: Redis is back")
    alice.send("C WHO")
    alice.expect("C USERS alice:TCP bob:TCP")
    alice.send("C PM", "D back")
    alice.expect("C ACK PM", "C OK PM 1")
    bob.expect("D PM alice TCP back")
    assert a.log().count("unavailable (") == 1, a.log()


def test_redis_paused_beyond_the_node_timeout(cluster):
    """
    Redis SIGSTOPped for longer than --node-timeout, then resumed: nobody is declared dead for
    Redis's own silence, nobody is disconnected, and the room goes on.
    """
    a, b = cluster.node(), cluster.node()
    alice = cluster.login(a, "alice")
    bob = cluster.login(b, "bob")
    alice.expect("C JOIN bob TCP")
    cluster.redis.pause()
    try:
        alice.send("C PM", "D while paused")
        alice.expect("C ACK PM")
        assert alice.next().startswith("C ERR UNAVAILABLE ")
        time.sleep(NODE_TIMEOUT * 2)
    finally:
        cluster.redis.resume()
    a.waitForLog("cluster: Redis is back")
    b.waitForLog("cluster: Redis is back")
    assert alice.quiet(NODE_TIMEOUT * 1.5) == [] and bob.quiet(0.1) == []
    bob.send("C PM", "D still here")
    bob.expect("C ACK PM", "C OK PM 1")
    alice.expect("D PM bob TCP still here")


def test_history_and_stored_messages_across_nodes(cluster):
    """
    History is the room's, whichever node heard it; a DM to someone offline is kept and handed
    over when they log in on another node.
    """
    a, b = cluster.node(), cluster.node()
    alice = cluster.login(a, "alice")
    bob = cluster.login(b, "bob")
    alice.expect("C JOIN bob TCP")
    alice.send("C PM", "D one")
    alice.expect("C ACK PM", "C OK PM 1")
    bob.expect("D PM alice TCP one")
    bob.send("C PM", "D two")
    bob.expect("C ACK PM", "C OK PM 1")
    alice.expect("D PM bob TCP two")
    for client in (alice, bob):
        client.send("C HISTORY")
        client.expect("C HISTORY 2")
        assert [client.next().split(" ", 3)[3] for _ in range(2)] == [
            "alice TCP one",
            "bob TCP two",
        ]
    bob.send("C EX")
    bob.expect("C BYE EXIT")
    alice.expect("C LEAVE bob TCP EXIT")
    alice.send("C DM", "D bob kept for you")
    alice.expect("C USERS alice:TCP", "C OK DM bob STORED")
    bob = cluster.login(b, "bob")
    bob.expect("C INBOX 1")
    assert bob.next().endswith(" alice TCP kept for you")


def test_redis_needs_a_shared_database(tmp_path):
    """
    C{--redis} with an SQLite --db is refused at start, in one line.
    """
    result = subprocess.run(
        [
            installed("twistd"),
            "-n",
            "--pidfile=",
            "chatroom",
            "--port=0",
            "--db=chat.sqlite",
            "--redis=redis://127.0.0.1:1",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert "--redis needs --db postgresql://..." in output
    assert not list(tmp_path.iterdir())


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 5)), min_size=1, max_size=12))
def test_each_senders_order_holds_across_nodes(cluster, plan):
    """
    Two senders on two nodes, pipelining bursts of public messages: every receiver, on either
    node, sees each sender's messages in the order they were sent.
    """
    if not cluster.nodes:
        a, b = cluster.node("--msg-rate=0"), cluster.node("--msg-rate=0")
        cluster.people = [cluster.login(a, "alice"), cluster.login(b, "bob")]
        cluster.people += [cluster.login(a, "carol"), cluster.login(b, "dave")]
        cluster.round = 0
        for person in cluster.people:  # the JOINs of those after them
            person.quiet(1.0)
            while person.quiet(0.2):
                pass
    cluster.round += 1
    senders = cluster.people[:2]
    sent: list[list[str]] = [[], []]
    for who, burst in plan:
        texts = [f"r{cluster.round}-{who}-{len(sent[who]) + i}" for i in range(burst)]
        sent[who] += texts
        senders[who].send(*(f for text in texts for f in ("C PM", f"D {text}")))
    total = len(sent[0]) + len(sent[1])
    for person in cluster.people:
        heard: list[list[str]] = [[], []]
        expected = [len(sent[0]), len(sent[1])]
        for i, sender in enumerate(senders):
            if person is sender:
                expected[i] = 0
        while sum(len(h) for h in heard) < sum(expected) or (
            person in senders and person.oks < len(sent[senders.index(person)])
        ):
            frame = person.next()
            if frame.startswith("D PM "):
                _, _, name, _, text = frame.split(" ", 4)
                heard[0 if name == "alice" else 1].append(text)
            elif frame.startswith("C OK PM "):
                person.oks += 1
            else:
                assert frame == "C ACK PM", frame
        assert heard == [sent[0] if expected[0] else [], sent[1] if expected[1] else []]
        person.oks = 0
    assert total > 0


def test_ghost_across_nodes(cluster):
    """
    C{LOGIN alice GHOST} on node B while alice is present on node A: a wrong password touches
    nothing; while the password is being checked nobody else can take the name; the right one
    ends A's session (BYE REPLACED), everyone on every node sees LEAVE … REPLACED once, then
    the new session's JOIN.
    """
    a, b = cluster.node(), cluster.node()
    alice = cluster.login(a, "alice")
    carol = cluster.login(a, "carol")
    alice.expect("C JOIN carol TCP")
    bob = cluster.login(b, "bob")
    for watcher in (alice, carol):
        watcher.expect("C JOIN bob TCP")
    again = Client(b.ports["TCP"])
    cluster.clients.append(again)
    again.expect("C HELLO chatroom 1 TCP")
    again.send("C LOGIN alice GHOST")
    again.expect("C PASSWORD EXISTING")
    again.send("C PASS wrong")
    again.expect("C ERR BAD_PASSWORD wrong password")
    assert alice.quiet(0.5) == [] and bob.quiet(0.1) == [] and carol.quiet(0.1) == []
    bob.send("C WHO")
    bob.expect("C USERS alice:TCP bob:TCP carol:TCP")
    again.send("C LOGIN alice GHOST")
    again.expect("C PASSWORD EXISTING")
    # Meanwhile the name stays taken, on either node.
    for node in (a, b):
        rival = Client(node.ports["TCP"])
        cluster.clients.append(rival)
        rival.expect("C HELLO chatroom 1 TCP")
        rival.send("C LOGIN alice")
        rival.expect("C ERR NAME_TAKEN alice is already in use")
    again.send("C PASS pw")
    again.expect("C WELCOME alice TCP Welcome alice, you are connected via TCP.")
    alice.expect("C BYE REPLACED")
    for watcher in (bob, carol):
        watcher.expect("C LEAVE alice TCP REPLACED", "C JOIN alice TCP")
        assert watcher.quiet(0.5) == []
    carol.send("C WHO")
    carol.expect("C USERS alice:TCP bob:TCP carol:TCP")
    again.send("C PM", "D back on b")
    again.expect("C ACK PM", "C OK PM 2")
    carol.expect("D PM alice TCP back on b")
    bob.expect("D PM alice TCP back on b")


def _tryLogin(node, name: str, password: str = "pw") -> tuple[Client, str]:
    """
    A login on C{node}: the client, and the answer to C{LOGIN} or, past it, to C{PASS}.
    """
    client = Client(node.ports["TCP"])
    client.expect("C HELLO chatroom 1 TCP")
    client.send(f"C LOGIN {name}")
    answer = client.next()
    if answer.startswith("C PASSWORD "):
        client.send(f"C PASS {password}")
        answer = client.next()
    return client, answer


def test_postgresql_restarted_under_the_cluster(cluster):
    """
    PostgreSQL stopped: a login needing the accounts gets ERR UNAVAILABLE, connected users stay;
    PostgreSQL back: the same nodes, not restarted, log people in and keep DMs again.
    """
    a, b = cluster.node(), cluster.node()
    alice = cluster.login(a, "alice")
    cluster.login(b, "bob").close()
    alice.expect("C JOIN bob TCP", "C LEAVE bob TCP CLOSED")
    postgres = cluster.postgres
    postgres.stop()
    try:
        client, answer = _tryLogin(b, "bob")
        cluster.clients.append(client)
        assert answer.startswith("C ERR UNAVAILABLE "), answer
        alice.send("C DM", "D bob while the database is away")
        alice.expect("C USERS alice:TCP")
        assert alice.next().startswith("C ERR UNAVAILABLE ")
    finally:
        postgres.start()
    deadline = time.monotonic() + WAIT
    while True:  # the first calls after the restart may still meet the old connections
        client, answer = _tryLogin(b, "bob")
        cluster.clients.append(client)
        if answer.startswith("C WELCOME bob TCP") or time.monotonic() > deadline:
            break
        assert answer.startswith("C ERR UNAVAILABLE "), answer
        time.sleep(0.2)
    assert answer.startswith("C WELCOME bob TCP"), answer
    alice.expect("C JOIN bob TCP")
    client.send("C EX")
    client.expect("C BYE EXIT")
    alice.expect("C LEAVE bob TCP EXIT")
    alice.send("C DM", "D bob kept after the restart")
    alice.expect("C USERS alice:TCP", "C OK DM bob STORED")


def test_a_dm_to_a_node_killed_mid_way_is_kept(cluster):
    """
    A DM handed to the target's node, which dies (kill -9) before answering: the sender gets
    C{OK DM … STORED} once the node is declared dead, and the target has it at its next login.
    """
    a, b = cluster.node(), cluster.node()
    alice = cluster.login(a, "alice")
    bob = cluster.login(b, "bob")
    alice.expect("C JOIN bob TCP")
    os.kill(b.pid, signal.SIGSTOP)  # subscribed still: Redis hands it the DM, it cannot answer
    try:
        alice.send("C DM", "D bob are you there?")
        alice.expect("C USERS alice:TCP bob:TCP")
        assert alice.quiet(0.5) == []  # waiting for bob's node
    finally:
        b.stop(signal.SIGKILL)
    bob.close()
    assert sorted([alice.next(), alice.next()]) == [
        "C LEAVE bob TCP TIMEOUT",
        "C OK DM bob STORED",
    ]
    bob = cluster.login(a, "bob")
    bob.expect("C INBOX 1")
    assert bob.next().endswith(" alice TCP are you there?")


def test_a_frozen_postgresql_does_not_hang_a_node(cluster):
    """
    PostgreSQL frozen (SIGSTOP): a login gets ERR UNAVAILABLE within the store's deadline instead
    of waiting for ever, and a node asked to stop meanwhile stops within a bound; thawed
    (SIGCONT), the other node logs people in again.
    """
    a, b = cluster.node("--db-timeout=2"), cluster.node("--db-timeout=2")
    alice = cluster.login(a, "alice")
    cluster.login(b, "bob").close()
    alice.expect("C JOIN bob TCP", "C LEAVE bob TCP CLOSED")
    postgres = cluster.postgres
    postgres.pause()
    try:
        for node in (a, b):
            asked = time.monotonic()
            client, answer = _tryLogin(node, "bob")
            cluster.clients.append(client)
            took = time.monotonic() - asked
            assert answer.startswith("C ERR UNAVAILABLE "), answer
            print(f"ERR UNAVAILABLE {took:.2f} s after LOGIN on a frozen PostgreSQL")
        # A's threads are stuck in PostgreSQL now; it still stops, in bounded time.
        asked = time.monotonic()
        code = a.stop(signal.SIGTERM)
        print(f"node stopped in {time.monotonic() - asked:.2f} s with PostgreSQL frozen")
        # twistd exits 0 once shut down by SIGTERM; not SIGKILLed for hanging.
        assert code == 0 and "Server Shut Down." in a.log(), a.log()
    finally:
        postgres.resume()
    deadline = time.monotonic() + WAIT
    while True:
        client, answer = _tryLogin(b, "bob")
        cluster.clients.append(client)
        if answer.startswith("C WELCOME bob TCP") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert answer.startswith("C WELCOME bob TCP"), answer
