"""
The benchmark's ngIRCd driver: our own ngIRCd child on loopback, IRC receivers that count
right, and the child stopped by its PID. CI installs ngIRCd (C{.ci/system-packages}), so there a
missing ngIRCd fails instead of skipping.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from helpers.system import need
from twisted.internet import reactor

from chatroom.bench import ngircd
from chatroom.bench.compare import NGIRCD, _windowed
from chatroom.bench.irc import IRCReceiver, IRCSender
from chatroom.bench.scenarios import _tcp, inBatches, sleep


@pytest.fixture
def needNgircd() -> None:
    need(ngircd.installed(), f"ngIRCd ({ngircd.NGIRCD})", "apt-get install ngircd")


@pytest_twisted.ensureDeferred
async def test_ngircd_child_relays_and_stops(needNgircd: None) -> None:
    server = await NGIRCD.server.start(reactor)
    try:
        assert server.cpuSeconds() >= 0 and server.rssKiB() > 0
        people = [IRCReceiver(f"r{i}") for i in range(3)]
        talker = IRCSender("talker")
        await inBatches(reactor, [*people, talker], _tcp(reactor, server.ports["TCP"]))
        await sleep(reactor, 0.2)
        await _windowed(reactor, talker, people, 7)
        await sleep(reactor, 0.2)  # nothing more arrives
        assert [p.deliveries for p in people] == [7, 7, 7]
        for client in [*people, talker]:
            client.transport.loseConnection()
    finally:
        await server.stop()
    assert not server.process.running
