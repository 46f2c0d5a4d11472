"""
UDP test clients on 127.0.0.1: a raw one that sends exactly the datagrams a
test writes, and a reliable one that speaks the protocol properly.
"""

from __future__ import annotations

import random

from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.interfaces import IUDPTransport
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import LoopingCall

from chatroom.datagrams import ackDatagram, parseDatagram
from chatroom.reliable import LinkFailure, ReliableLink

WAIT = 10.0


def _reactor():
    from twisted.internet import reactor

    return reactor


class RawUDP(DatagramProtocol):
    """
    Sends what the test says; queues every datagram that comes back.
    """

    transport: IUDPTransport

    def __init__(self, server: tuple[str, int]) -> None:
        self.server = server
        self.received: DeferredQueue[bytes] = DeferredQueue()

    def datagramReceived(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put(data)

    def send(self, data: bytes) -> None:
        self.transport.write(data, self.server)

    async def next(self, wait: float = WAIT) -> bytes:
        d = self.received.get()
        d.addTimeout(wait, _reactor())
        return await d

    async def nothingFor(self, seconds: float) -> bool:
        """
        Whether no datagram at all arrives for C{seconds}.
        """
        from twisted.internet.task import deferLater

        await deferLater(_reactor(), seconds, lambda: None)
        return not self.received.pending

    def pending(self) -> list[bytes]:
        out = list(self.received.pending)
        self.received.pending.clear()
        return out

    def close(self) -> Deferred[None] | None:
        return self.transport.stopListening()


async def rawClient(port: int) -> RawUDP:
    client = RawUDP(("127.0.0.1", port))
    _reactor().listenUDP(0, client, interface="127.0.0.1")
    return client


class ReliableUDP(DatagramProtocol):
    """
    A well-behaved UDP chat client: the frames it is given arrive once and
    in order, and it sees the server's frames the same way.
    """

    transport: IUDPTransport

    def __init__(self, server: tuple[str, int], seed: int | None = None) -> None:
        self.server = server
        self.frames: DeferredQueue[str] = DeferredQueue()
        self.failures: list[LinkFailure] = []
        rng = random.Random(seed)
        self.link = ReliableLink(
            self._transmit,
            self._deliver,
            self.failures.append,
            sendSeq=rng.randrange(2**31),
            recvSeq=None,
            now=_reactor().seconds(),
        )
        self._ticker = LoopingCall(lambda: self.link.tick(_reactor().seconds()))

    def startProtocol(self) -> None:
        self._ticker.start(0.025, now=False)

    def stopProtocol(self) -> None:
        if self._ticker.running:
            self._ticker.stop()

    def _transmit(self, datagram: bytes) -> None:
        self.transport.write(datagram, self.server)

    def _deliver(self, frame: bytes) -> None:
        self.frames.put(frame.decode("utf-8"))

    def datagramReceived(self, data: bytes, addr: tuple[str, int]) -> None:
        parsed = parseDatagram(data)
        assert parsed is not None, data
        seq, frame = parsed
        now = _reactor().seconds()
        if frame is None:
            self.link.ackReceived(seq, now)
        else:
            self.link.frameReceived(seq, frame, now)

    def send(self, *frames: str | bytes) -> None:
        for frame in frames:
            data = frame if isinstance(frame, bytes) else frame.encode("utf-8")
            self.link.send(data, _reactor().seconds())

    async def next(self, wait: float = WAIT) -> str:
        d = self.frames.get()
        d.addTimeout(wait, _reactor())
        return await d

    async def expect(self, *frames: str) -> None:
        for frame in frames:
            assert await self.next() == frame

    def pending(self) -> int:
        return len(self.frames.pending)

    def close(self) -> Deferred[None] | None:
        return self.transport.stopListening()


async def udpClient(port: int, seed: int | None = None) -> ReliableUDP:
    client = ReliableUDP(("127.0.0.1", port), seed)
    _reactor().listenUDP(0, client, interface="127.0.0.1", maxPacketSize=65535)
    return client


async def logIn(client: ReliableUDP, name: str, password: str = "secret") -> ReliableUDP:
    client.send(f"C LOGIN {name}", f"C PASS {password}")
    await client.expect("C HELLO chatroom 1 UDP")
    assert (await client.next()).startswith("C PASSWORD ")
    welcome = await client.next()
    assert welcome == f"C WELCOME {name} UDP Welcome {name}, you are connected via UDP.", welcome
    return client


def ack(seq: int) -> bytes:
    return ackDatagram(seq)
