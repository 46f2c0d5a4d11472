"""
The benchmark's WebSocket fan-out: TCP senders pipeline public messages to
receivers that are browsers' WebSocket sessions (C{WEB}), on the same server
build as the TCP fan-out, so the two figures compare the transports.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import ITCPTransport
from twisted.internet.protocol import Protocol

from chatroom.bench.clients import Latencies
from chatroom.bench.scenarios import (
    PROBES,
    Result,
    burst,
    inBatches,
)
from chatroom.bench.server import BenchServer
from chatroom.web import SUBPROTOCOL

#: The opening handshake every receiver sends (the key need not be secret).
HANDSHAKE = (
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
)


def maskedText(text: bytes) -> bytes:
    """
    One client text message (short, as C{C LOGIN} is), masked with a zero
    key, which RFC 6455 allows: the server unmasks it all the same.
    """
    assert len(text) < 126
    return bytes((0x81, 0x80 | len(text))) + b"\0\0\0\0" + text


class WebReceiver(Protocol):
    """
    A WebSocket session that logs in and counts the public messages it
    receives; a probe also times each one.

    As cheap as the TCP receivers: after the handshake it counts
    C{D PM } in the byte stream, like them (a general WebSocket client
    would cost the generator tens of microseconds a message, and the
    generator, not the server, would be measured). Only a probe parses
    each message's framing, for its timestamp.
    """

    marker = b"D PM "
    transport: ITCPTransport

    def __init__(self, name: str, latencies: Latencies | None = None) -> None:
        self.name = name
        self.latencies = latencies
        self.welcomed: Deferred[None] = Deferred()
        self.deliveries = 0
        self._open = False
        self._buffer = b""
        self._tail = b""

    def connectionMade(self) -> None:
        self.transport.write(HANDSHAKE.format(protocol=SUBPROTOCOL).encode())

    def dataReceived(self, data: bytes) -> None:
        if not self._open:
            self._buffer += data
            head, found, data = self._buffer.partition(b"\r\n\r\n")
            if not found:
                return
            if not head.startswith(b"HTTP/1.1 101 "):
                raise RuntimeError(f"handshake refused: {head[:80]!r}")
            self._open = True
            self._buffer = b""
            self.transport.write(maskedText(b"C LOGIN " + self.name.encode()))
        if not self.welcomed.called and b"C WELCOME " in data:
            self.welcomed.callback(None)
        chunk = self._tail + data
        self.deliveries += chunk.count(self.marker)
        self._tail = chunk[-(len(self.marker) - 1) :]
        if self.latencies is not None:
            self._time(data)

    def _time(self, data: bytes) -> None:
        """
        Parse whole messages (server messages are unmasked, under 64 KiB).
        """
        buffer = self._buffer + data
        texts = []
        while len(buffer) >= 2:
            size, start = buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    break
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            if len(buffer) < start + size:
                break
            texts.append(buffer[start : start + size])
            buffer = buffer[start + size :]
        self._buffer = buffer
        assert self.latencies is not None
        self.latencies.messages(texts)


def _web(reactor: Any, port: int) -> Any:
    async def start(receiver: WebReceiver) -> None:
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=30)
        await connectProtocol(endpoint, receiver)

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
        result = Result(f"fan-out {receivers} WEB, {senders} sender(s)")
        result.figures = await burst(reactor, server, people, latencies, senders, messages, size)
        for person in people:
            if person.transport is not None:
                person.transport.loseConnection()
        return result
    finally:
        await server.stop()
