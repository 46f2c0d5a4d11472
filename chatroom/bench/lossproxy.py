"""
A UDP relay that loses a share of the datagrams, each way.

Each client gets an upstream socket of its own, so the server still sees
one address per client; what is dropped is chosen by a seeded generator.
"""

from __future__ import annotations

import random
from typing import Any

from twisted.internet.protocol import DatagramProtocol

from chatroom.datagrams import parseDatagram
from chatroom.sockets import IUDPPort


class _Upstream(DatagramProtocol):
    def __init__(self, proxy: LossProxy, client: tuple[str, int]) -> None:
        self.proxy = proxy
        self.client = client

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        self.proxy.fromServer(data, self.client)


class LossProxy(DatagramProtocol):
    """
    Listens for clients; relays to C{server}, dropping C{loss} of the
    datagrams in each direction. Counts what the server sent, to measure
    its retransmissions.
    """

    transport: IUDPPort

    def __init__(self, reactor: Any, server: tuple[str, int], loss: float, seed: int = 1) -> None:
        self.reactor = reactor
        self.server = server
        self.loss = loss
        self.rng = random.Random(seed)
        self._upstreams: dict[tuple[str, int], Any] = {}
        self.serverFrames = 0  # frame datagrams the server sent, resends included
        self.uniqueFrames: set[tuple[tuple[str, int], int]] = set()

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        port = self._upstreams.get(addr)
        if port is None:
            port = self.reactor.listenUDP(0, _Upstream(self, addr), interface="127.0.0.1")
            self._upstreams[addr] = port
        if self.rng.random() >= self.loss:
            port.write(data, self.server)

    def fromServer(self, data: bytes, client: tuple[str, int]) -> None:
        parsed = parseDatagram(data)
        if parsed is not None and parsed[1] is not None:
            self.serverFrames += 1
            self.uniqueFrames.add((client, parsed[0]))
        if self.rng.random() >= self.loss:
            self.transport.write(data, client)

    def close(self) -> None:
        for port in self._upstreams.values():
            port.stopListening()
        self.transport.stopListening()
