"""
Redis's bad days, over real processes (issue 23): real C{twistd chatroom} nodes, a real Redis
(C{chatroom.bench.redisserver}) and a real PostgreSQL, as in C{test_cluster}. Whatever Redis does
(paused for 5, 15 or 60 seconds while users keep talking, killed and refusing connections, started
again empty, answering slowly), every node serves public messages again within C{--node-timeout}
seconds of Redis answering, by itself, and the users present are in C{C WHO} again.

Some nodes reach Redis through a URL with a database number or a password: their connections
then greet Redis (C{SELECT}, C{AUTH}) before serving, which is the shape that left a node
disconnected for good (Twisted's C{ClientService} got a lost connection in C{Connecting}).
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from helpers.cluster import Client, Cluster

from chatroom.bench import pgserver, redisserver

_names = itertools.count()


@pytest.fixture
def faults(
    postgres: pgserver.PostgresServer, redis: redisserver.RedisServer, tmp_path
) -> Iterator[Cluster]:
    db = postgres.createDatabase(f"faults{os.getpid()}_{next(_names)}")
    nodes = Cluster(tmp_path, db, redis)
    try:
        yield nodes
    finally:
        nodes.stop()


def _pair(cluster: Cluster, nodeTimeout: float, url: str) -> tuple[Client, Client]:
    """
    Two nodes on C{url}, alice on the first and bob on the second, each seeing the other.
    """
    # The URL may hold a password: it goes in a config file (mode 600), never on a command line.
    config = cluster.directory / f"redis-{len(cluster.nodes)}.toml"
    config.touch(mode=0o600)
    config.write_text(f"redis = {json.dumps(url)}\n")
    option = f"--node-timeout={nodeTimeout:g}"
    a = cluster.node(option, redisInConfig=config)
    b = cluster.node(option, redisInConfig=config)
    alice = cluster.login(a, "alice")
    bob = cluster.login(b, "bob")
    alice.expect("C JOIN bob TCP")
    return alice, bob


def _refused(client: Client, text: str) -> None:
    """
    A public message while Redis is away: acknowledged, then refused.
    """
    client.send("C PM", f"D {text}")
    client.expect("C ACK PM")
    answer = client.next()
    assert answer.startswith("C ERR UNAVAILABLE "), answer


def _talkWhile(seconds: float, *clients: Client) -> int:
    """
    Each client sends public messages, one after the other's answer, for C{seconds}; all refused.
    """
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for client in clients:
            _refused(client, f"lost {sent}")
            sent += 1
        time.sleep(0.5)
    return sent


def _served(sender: Client, since: float, bound: float) -> float:
    """
    Seconds from C{since} until a public message of C{sender} is accepted by its node. Fails if
    that takes more than C{bound} seconds.
    """
    for attempt in itertools.count():
        sender.send("C PM", f"D back {attempt}")
        assert _reply(sender) == "C ACK PM"
        answer = _reply(sender)
        took = time.monotonic() - since
        if answer.startswith("C OK PM "):
            break
        assert answer.startswith("C ERR UNAVAILABLE "), answer
        assert took < bound, f"still {answer!r} {took:.1f} s after Redis answered again"
        time.sleep(0.1)
    assert took <= bound, f"served {took:.1f} s after Redis answered again (bound {bound:g} s)"
    return took


def _reply(client: Client) -> str:
    """
    The next line for C{client} that answers it, past what others said meanwhile.
    """
    line = client.next()
    while line.startswith(_OTHERS):
        line = client.next()
    return line


_OTHERS = ("C JOIN ", "C LEAVE ", "D PM ")


def _heard(receiver: Client, expected: str) -> None:
    """
    C{expected} reaches C{receiver}, after what each node's first message said meanwhile.
    """
    heard = receiver.next()
    while heard != expected:
        assert heard.startswith(_OTHERS), heard
        heard = receiver.next()


def _recovered(alice: Client, bob: Client, since: float, bound: float, what: str) -> None:
    """
    Both nodes serve again within C{bound} seconds of C{since}; then each one's public messages
    reach the other, and both users are present.
    """
    took = [_served(alice, since, bound), _served(bob, since, bound)]
    for sender, name, receiver in ((alice, "alice", bob), (bob, "bob", alice)):
        sender.send("C PM", f"D from {name}")
        assert _reply(sender) == "C ACK PM"
        assert _reply(sender).startswith("C OK PM ")
        _heard(receiver, f"D PM {name} TCP from {name}")
    for client in (alice, bob):
        client.send("C WHO")
        client.expect("C USERS alice:TCP bob:TCP")
    print(f"{what}: nodes serve again {took[0]:.2f} s and {took[1]:.2f} s after Redis answered")


def test_paused_past_the_node_timeout_with_messages_meanwhile(faults):
    """
    The shape that left a node answering ERR UNAVAILABLE until restarted: --node-timeout 10,
    Redis SIGSTOPped for 15 s while both users send public messages, then SIGCONT: public
    messages are delivered again within 10 s.
    """
    alice, bob = _pair(faults, 10.0, faults.redis.url + "/0")
    faults.redis.pause()
    try:
        _talkWhile(15.0, alice, bob)
    finally:
        faults.redis.resume()
    _recovered(alice, bob, time.monotonic(), 10.0, "paused 15 s (--node-timeout 10)")


@pytest.mark.parametrize("seconds", [5.0, 60.0])
def test_paused_with_a_password(faults, seconds):
    """
    Redis asking for a password, SIGSTOPped for a while past --node-timeout 3 with messages sent
    meanwhile: the nodes serve again within 3 s of SIGCONT.
    """
    faults.redis.command("CONFIG", "SET", "requirepass", "s3cret")
    url = f"redis://:s3cret@127.0.0.1:{faults.redis.port}"
    alice, bob = _pair(faults, 3.0, url)
    faults.redis.pause()
    try:
        _talkWhile(seconds, alice, bob)
    finally:
        faults.redis.resume()
    _recovered(alice, bob, time.monotonic(), 3.0, f"paused {seconds:g} s (--node-timeout 3)")


def test_killed_refusing_then_started_empty(faults):
    """
    Redis killed (-9), refusing connections for three node timeouts while users talk, started
    again with nothing in it: the nodes serve within --node-timeout and tell it who is here.
    """
    alice, bob = _pair(faults, 3.0, faults.redis.url + "/1")
    process = faults.redis.process
    assert process is not None
    process.kill()
    process.wait()
    _talkWhile(9.0, alice, bob)
    faults.redis.start()
    _recovered(alice, bob, time.monotonic(), 3.0, "killed, refused 9 s, started empty")


class SlowRelay:
    """
    A TCP relay on 127.0.0.1 to Redis that holds what it carries, each way, for L{delay}
    seconds (read when the bytes are due, so lowering it frees what waits).
    """

    def __init__(self, target: int) -> None:
        self.target = target
        self.delay = 0.0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.listener.accept()
                far = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                return
            self.sockets += [near, far]
            for source, sink in ((near, far), (far, near)):
                held: queue.Queue[tuple[float, bytes]] = queue.Queue()
                threading.Thread(target=self._read, args=(source, held), daemon=True).start()
                threading.Thread(target=self._write, args=(held, source, sink), daemon=True).start()

    def _read(self, source: socket.socket, held: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            held.put((time.monotonic(), data))
            if not data:
                return

    def _write(
        self, held: queue.Queue[tuple[float, bytes]], source: socket.socket, sink: socket.socket
    ) -> None:
        while True:
            at, data = held.get()
            while (wait := at + self.delay - time.monotonic()) > 0:
                time.sleep(min(wait, 0.05))
            try:
                if not data:
                    raise OSError("closed")
                sink.sendall(data)
            except OSError:
                for s in (source, sink):
                    s.close()
                return

    def close(self) -> None:
        self.listener.close()
        for s in self.sockets:
            s.close()


def test_slow_answers(faults):
    """
    Redis behind a relay: a little slow (0.2 s each way), the room works; slower than the reply
    timeout (3 s each way), messages are refused; fast again, the nodes serve within
    --node-timeout by themselves.
    """
    relay = SlowRelay(faults.redis.port)
    try:
        alice, bob = _pair(faults, 4.0, f"redis://127.0.0.1:{relay.port}")
        relay.delay = 0.2
        alice.send("C PM", "D slowly")
        alice.expect("C ACK PM", "C OK PM 1")
        bob.expect("D PM alice TCP slowly")
        relay.delay = 3.0
        _talkWhile(8.0, alice, bob)
        relay.delay = 0.0
        _recovered(alice, bob, time.monotonic(), 4.0, "3 s slow answers for 8 s")
    finally:
        relay.close()
