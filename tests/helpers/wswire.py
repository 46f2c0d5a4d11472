"""
A WebSocket test client for the server's web listener, over real sockets.

Every wait is bounded, as in L{wire}.
"""

from __future__ import annotations

from typing import cast

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.endpoints import SSL4ClientEndpoint, TCP4ClientEndpoint
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator, IStreamClientEndpoint

WAIT = 10.0


class WSClient(WebSocketClientProtocol):
    """
    Collects the server's messages (one frame each); tests read them with L{next}.
    """

    def __init__(self) -> None:
        super().__init__()
        self.frames: DeferredQueue[str] = DeferredQueue()
        self.binary: list[bytes] = []
        self.opened: Deferred[WSClient] = Deferred()
        self.closed: Deferred[tuple[bool, int | None, str | None]] = Deferred()

    def onOpen(self) -> None:
        self.opened.callback(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if isBinary:
            self.binary.append(payload)
        else:
            self.frames.put(payload.decode("utf-8"))

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        if not self.opened.called:
            self.opened.errback(ConnectionError(f"handshake refused: {code} {reason}"))
        if not self.closed.called:
            self.closed.callback((wasClean, code, reason))

    def send(self, *frames: str | bytes, binary: bool = False) -> None:
        """
        Each frame in its own message, text unless C{binary}; bytes go as they are.
        """
        for frame in frames:
            payload = frame if isinstance(frame, bytes) else frame.encode("utf-8")
            self.sendMessage(payload, isBinary=binary)

    async def next(self, wait: float = WAIT) -> str:
        from twisted.internet import reactor

        d = self.frames.get()
        d.addTimeout(wait, reactor)
        return await d

    async def expect(self, *frames: str) -> None:
        for frame in frames:
            assert await self.next() == frame

    async def waitClosed(self) -> tuple[bool, int | None, str | None]:
        from twisted.internet import reactor

        # Waited for through another Deferred: a timeout cancels that one only.
        done: Deferred[tuple[bool, int | None, str | None]] = Deferred()

        def fire(result: tuple[bool, int | None, str | None]) -> tuple:
            if not done.called:
                done.callback(result)
            return result

        self.closed.addCallback(fire)
        return await done.addTimeout(WAIT, reactor)

    def pending(self) -> int:
        return len(self.frames.pending)

    def close(self) -> None:
        if self.transport is not None and not self.closed.called:
            self.transport.loseConnection()


async def connect(
    port: int,
    origin: str | None = "same",
    protocols: list[str] | None = None,
    path: str = "/ws",
    tls: IOpenSSLClientConnectionCreator | None = None,
) -> WSClient:
    """
    Open a WebSocket to 127.0.0.1:C{port} (with C{tls}: wss to localhost);
    C{origin} "same" sends the server's own page's origin, L{None} sends none.
    """
    from twisted.internet import reactor

    host = "127.0.0.1" if tls is None else "localhost"
    scheme = "http" if tls is None else "https"
    url = f"{'ws' if tls is None else 'wss'}://{host}:{port}{path}"
    if origin == "same":
        origin = f"{scheme}://{host}:{port}"
    factory = WebSocketClientFactory(
        url,
        origin=origin,
        protocols=["chatroom.v1"] if protocols is None else protocols,
    )
    factory.protocol = WSClient
    factory.setProtocolOptions(autoPingInterval=0)
    endpoint: IStreamClientEndpoint
    if tls is None:
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=5)
    else:
        endpoint = SSL4ClientEndpoint(reactor, "127.0.0.1", port, tls, timeout=5)
    client = cast(WSClient, await endpoint.connect(factory))
    opened = client.opened
    opened.addTimeout(WAIT, reactor)
    await opened
    return client


async def loggedIn(port: int, name: str, password: str = "secret") -> WSClient:
    """
    A browser-like client that registered (or logged in as) C{name}, past its WELCOME.
    """
    client = await connect(port)
    await client.expect("C HELLO chatroom 1 WEB")
    client.send(f"C LOGIN {name}", f"C PASS {password}")
    assert (await client.next()).startswith("C PASSWORD ")
    welcome = await client.next()
    assert welcome.startswith(f"C WELCOME {name} WEB "), welcome
    return client
