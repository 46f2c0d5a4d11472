"""
The benchmark's WebSocket fan-out: TCP senders pipeline public messages to
receivers that are browsers' WebSocket sessions (C{WEB}), on the same server
build as the TCP fan-out, so the two figures compare the transports.
"""

from __future__ import annotations

import time
from typing import Any

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint

from chatroom.bench.clients import Latencies, TCPSender
from chatroom.bench.scenarios import (
    PROBES,
    Generator,
    Result,
    _tcp,
    deliveryFigures,
    inBatches,
    sleep,
    waitUntil,
)
from chatroom.bench.server import BenchServer
from chatroom.web import SUBPROTOCOL


class WebReceiver(WebSocketClientProtocol):
    """
    A WebSocket session that logs in and counts the public messages it
    receives; a probe also times each one.
    """

    def __init__(self, name: str, latencies: Latencies | None = None) -> None:
        super().__init__()
        self.name = name
        self.latencies = latencies
        self.welcomed: Deferred[None] = Deferred()
        self.deliveries = 0

    def onOpen(self) -> None:
        self.sendMessage(b"C LOGIN " + self.name.encode())

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if payload.startswith(b"D PM "):
            self.deliveries += 1
            if self.latencies is not None:
                self.latencies.messages([payload])
        elif not self.welcomed.called and payload.startswith(b"C WELCOME "):
            self.welcomed.callback(None)


def _web(reactor: Any, port: int) -> Any:
    async def start(receiver: WebReceiver) -> None:
        factory = WebSocketClientFactory(f"ws://127.0.0.1:{port}/ws", protocols=[SUBPROTOCOL])
        factory.protocol = lambda: receiver  # type: ignore[assignment]
        factory.setProtocolOptions(autoPingInterval=0)
        await TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=30).connect(factory)

    return start


async def webFanOut(
    reactor: Any, receivers: int, senders: int, messages: int, size: int = 64
) -> Result:
    """
    C{senders} TCP users pipeline C{messages} public messages in all, as
    fast as the protocol allows, to C{receivers} WebSocket users.
    """
    server = await BenchServer.start(reactor)
    try:
        latencies = Latencies()
        people = [WebReceiver(f"w{i}", latencies if i < PROBES else None) for i in range(receivers)]
        await inBatches(reactor, people, _web(reactor, server.ports["WEB"]))
        talkers = [TCPSender(f"s{i}") for i in range(senders)]
        await inBatches(reactor, talkers, _tcp(reactor, server.ports["TCP"]))
        await sleep(reactor, 1.0)  # let the join notices drain
        for person in people:
            person.deliveries = 0
        latencies.samples.clear()
        expected = messages * receivers
        generator = Generator()
        cpu = server.cpuSeconds()
        started = time.monotonic()
        for talker in talkers:
            talker.burst(messages // senders, size)
        await waitUntil(
            reactor,
            lambda: sum(p.deliveries for p in people) >= expected,
            300,
            "every delivery",
        )
        elapsed = time.monotonic() - started
        serverCpu = server.cpuSeconds() - cpu
        result = Result(f"fan-out {receivers} WEB, {senders} sender(s)")
        result.figures = deliveryFigures(expected, elapsed, latencies, serverCpu, generator)
        for person in people:
            if person.transport is not None:
                person.transport.loseConnection()
        return result
    finally:
        await server.stop()
