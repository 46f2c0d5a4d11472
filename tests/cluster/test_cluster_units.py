"""
The plain parts of issue 23's work, without processes: answers kept in order behind public
messages on their way (L{chatroom.inorder.InOrder}), the presence mirror's loading and its
changes (L{chatroom.cluster.mirror}), and C{sentinel://} URLs (L{chatroom.cluster.sentinel}).
"""

from __future__ import annotations

import json

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom.cluster.engine import RedisURL, parseURL
from chatroom.cluster.mirror import MirrorState, PresenceMirror, changesOf
from chatroom.cluster.sentinel import SentinelURL
from chatroom.inorder import InOrder


def test_answers_wait_for_those_before_them():
    order, said = InOrder(), []
    order.then("s", lambda: said.append("now"))  # nothing awaited: at once
    first: Deferred[int] = Deferred()
    second: Deferred[int] = Deferred()
    order.after("s", first, lambda n: said.append(f"first {n}"), lambda f: said.append("x"))
    order.then("s", lambda: said.append("ack"))
    order.after("s", second, lambda n: said.append(f"second {n}"), lambda f: said.append("err"))
    waiting = order.whenDone("s")
    assert waiting is not None and order.busy("s")
    second.errback(Failure(RuntimeError("lost")))
    assert said == ["now"]
    first.callback(1)
    assert said == ["now", "first 1", "ack", "err"]
    assert waiting.called and not order.busy("s") and order.whenDone("s") is None


def test_an_ended_session_releases_what_waits_for_it():
    order = InOrder()
    order.after("s", Deferred(), lambda n: None, lambda f: None)
    waiting = order.whenDone("s")
    assert waiting is not None
    order.forget("s")
    assert waiting.called and not order.busy("s")


def _value(node: str, name: str) -> str:
    return json.dumps([node, name, "TCP"])


def test_the_mirror_plays_what_came_while_it_was_read():
    reads: list[Deferred[list[str]]] = []

    def read() -> Deferred[list[str]]:
        reads.append(Deferred())
        return reads[-1]

    clock = Clock()
    mirror = PresenceMirror("me", clock, read, lambda: True, Logger())
    mirror.apply([("early", ("n1", "TCP"))])  # not subscribed: nothing heard
    assert mirror.state is MirrorState.EMPTY
    mirror.subscription(True)
    clock.advance(0)  # the read is asked for once the subscription is confirmed
    assert mirror.state is MirrorState.LOADING and len(reads) == 1
    mirror.apply(changesOf(["frame", "n1", "C JOIN bob TCP"], "me"))
    mirror.apply(changesOf(["frame", "n1", "C LEAVE carol TCP EXIT"], "me"))
    reads[0].callback([_value("n1", "carol"), _value("me", "mine"), _value("n2", "dave")])
    assert mirror.state is MirrorState.LOADED
    assert mirror.entries([("alice", "TCP")]) == ["alice:TCP", "bob:TCP", "dave:TCP"]
    mirror.apply(changesOf(["gone", "n2", "TIMEOUT", [["dave", "TCP"]]], "me"))
    mirror.apply(changesOf(["here", "n3", [["Eve", "WEB"]]], "me"))
    mirror.apply(changesOf(["ghost", "n1", "n3", "bob", "bob", "TCP"], "me"))
    assert mirror.entries([]) == ["Eve:WEB"]
    mirror.subscription(False)
    assert mirror.state is MirrorState.EMPTY and len(mirror) == 0
    mirror.load([_value("n1", "late")])  # a read begun before the loss counts for nothing
    assert mirror.state is MirrorState.EMPTY


def test_sentinel_urls():
    url = SentinelURL("sentinel://127.0.0.1:26379,other:26380/mymaster")
    assert url.sentinels == [("127.0.0.1", 26379), ("other", 26380)]
    assert url.master == "mymaster" and url.db is None and url.password is None
    secret = parseURL("sentinel://:s3cret@h:1/m/2")
    assert isinstance(secret, SentinelURL)
    assert (secret.password, secret.db) == ("s3cret", 2)
    assert "s3cret" not in secret.redacted()
    assert isinstance(parseURL("redis://h:1"), RedisURL)
    for bad in ("sentinel://h:1", "sentinel://h:x/m", "sentinel://h:1/m/db", "sentinel:/h:1/m"):
        with pytest.raises(ValueError):
            parseURL(bad)
