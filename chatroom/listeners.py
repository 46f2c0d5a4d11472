"""
A service that listens on a stream endpoint and says where it listens.

Like Twisted's C{StreamServerEndpointService}, but it logs the bound
address, which is how an operator (or a test that asked for port 0) learns
the real port.
"""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import IListeningPort, IStreamServerEndpoint
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom.tcp import describe


class ListenerService(Service):
    """
    Listens on C{endpoint} with C{factory} while running.

    Listening starts in L{privilegedStartService}, so twistd binds low ports
    before it drops privileges; a failure to bind is raised there and then,
    so twistd reports it instead of running a server that serves nothing.
    """

    log = Logger()

    def __init__(self, endpoint: IStreamServerEndpoint, factory: Factory, label: str) -> None:
        self.endpoint = endpoint
        self.factory = factory
        self.label = label
        self.port: IListeningPort | None = None
        self._listening: Deferred[IListeningPort] | None = None

    def privilegedStartService(self) -> None:
        super().privilegedStartService()
        self._listen()

    def startService(self) -> None:
        super().startService()
        if self._listening is None:
            self._listen()

    def _listen(self) -> None:
        failed: list[Failure] = []
        self._listening = self.endpoint.listen(self.factory)
        self._listening.addCallbacks(self._bound, failed.append)
        if failed:
            failed[0].raiseException()

    def _bound(self, port: IListeningPort) -> IListeningPort:
        self.port = port
        self.log.info(
            "chatroom listening for {label} on {address}",
            label=self.label,
            address=describe(port.getHost()),
        )
        return port

    def stopService(self) -> Deferred[None] | None:
        super().stopService()
        port, self.port = self.port, None
        self._listening = None
        if port is not None:
            return maybeDeferred(port.stopListening)
        return None
