"""
Services that listen for clients and say where they listen.

Each logs its bound address, which is how an operator (or a test that
asked for port 0) learns the real port.
"""

from __future__ import annotations

import socket

from twisted.application.service import Service
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import (
    IListeningPort,
    IReactorCore,
    IReactorUDP,
    IStreamServerEndpoint,
)
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom.startup import StartupError
from chatroom.tcp import describe
from chatroom.udp import ChatDatagramProtocol


def cannotListen(label: str, error: BaseException) -> StartupError:
    """
    The one line that says why listening for C{label} failed.
    """
    if isinstance(error, CannotListenError):
        host = error.interface or "*"
        where = f"[{host}]:{error.port}" if ":" in host else f"{host}:{error.port}"
        reason = getattr(error.socketError, "strerror", None) or error.socketError
        return StartupError(f"cannot listen for {label} on {where}: {reason}")
    return StartupError(f"cannot listen for {label}: {error}")


class ListenerService(Service):
    """
    Listens on C{endpoint} with C{factory} while running.

    Listening starts in L{privilegedStartService}, so twistd binds low ports
    before it drops privileges; a failure to bind is raised there and then,
    as a L{StartupError}, so twistd reports it instead of running a server
    that serves nothing. An endpoint may also fail later (one that resolves
    a name, say): then the failure is logged as critical and the reactor
    stopped, for the same reason.
    """

    log = Logger()

    def __init__(
        self,
        endpoint: IStreamServerEndpoint,
        factory: Factory,
        label: str,
        reactor: IReactorCore | None = None,
    ) -> None:
        """
        @param reactor: the reactor to stop if listening fails late (the
            global one by default).
        """
        self.endpoint = endpoint
        self.factory = factory
        self.label = label
        self.reactor = reactor
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
        failedNow: list[Failure] = []
        starting = True

        def failed(failure: Failure) -> None:
            if starting:
                failedNow.append(failure)
            else:
                self._failedLate(failure)

        self._listening = self.endpoint.listen(self.factory)
        self._listening.addCallbacks(self._bound, failed)
        starting = False
        # Most endpoints answer at once: a failure then is raised from here.
        if failedNow:
            self._listening = None
            raise cannotListen(self.label, failedNow[0].value)

    def _failedLate(self, failure: Failure) -> None:
        if self._listening is None:  # stopped meanwhile
            return
        self._listening = None
        error = cannotListen(self.label, failure.value)
        self.log.critical("{error}; stopping the server", error=error)
        reactor = self.reactor
        if reactor is None:
            from twisted.internet import reactor as default

            reactor = default
        reactor.stop()

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


UDP_BUFFER = 4 * 1024 * 1024


class UDPListenerService(Service):
    """
    Serves a L{ChatDatagramProtocol} on a UDP port while running.

    Twisted has no endpoints for datagrams, so this listens directly. On
    stop it keeps the socket open until every UDP session has been said
    goodbye to (or the shutdown grace has passed): unlike TCP, the listening
    socket is the only way to reach them.
    """

    log = Logger()

    def __init__(
        self,
        reactor: IReactorUDP,
        portNumber: int,
        interface: str,
        protocol: ChatDatagramProtocol,
    ) -> None:
        self.reactor = reactor
        self.portNumber = portNumber
        self.interface = interface
        self.protocol = protocol
        self.port: IListeningPort | None = None

    def privilegedStartService(self) -> None:
        super().privilegedStartService()
        self._listen()

    def startService(self) -> None:
        super().startService()
        if self.port is None:
            self._listen()

    def _listen(self) -> None:
        # Big enough for any datagram, so an oversize frame is seen whole
        # and answered with TOO_LONG rather than cut short.
        try:
            self.port = self.reactor.listenUDP(
                self.portNumber, self.protocol, interface=self.interface, maxPacketSize=65535
            )
        except CannotListenError as e:
            raise cannotListen("UDP", e) from None
        # Every session may have 64 frames in flight, so acknowledgements
        # come back in bursts: the default buffers (~200 KB, a few hundred
        # datagrams) would drop most of them. The kernel caps what we ask.
        sock = self.port.getHandle()
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            sock.setsockopt(socket.SOL_SOCKET, option, UDP_BUFFER)
        self.log.info(
            "chatroom listening for UDP on {address}", address=describe(self.port.getHost())
        )

    def stopService(self) -> Deferred[None]:
        super().stopService()
        port, self.port = self.port, None

        def close(result: object) -> object:
            if port is not None:
                return port.stopListening()
            return None

        return self.protocol.shutDown().addBoth(close)
