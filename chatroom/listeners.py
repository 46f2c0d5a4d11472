"""
Services that listen for clients, say where they listen, and stop the
server when they cannot.

Each logs its bound address, which is how an operator (or a test that
asked for port 0) learns the real port; a failure to listen is one
L{StartupError} line at start-up, or a critical one that stops the server
if it comes later.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Protocol

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorUDP,
    IStreamServerEndpoint,
    ISystemHandle,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom import fingerprint
from chatroom.sockets import describe
from chatroom.startup import StartupError
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


def tlsFingerprint(endpoint: IStreamServerEndpoint) -> str | None:
    """
    The fingerprint (L{chatroom.fingerprint}) of the certificate a TLS
    listener presents, or L{None} for a listener without TLS.

    Twisted's C{ssl:} endpoint keeps its context factory in a private
    attribute, and the certificate options built from C{certKey=} keep the
    certificate; anything else has none to tell.
    """
    options = getattr(endpoint, "_sslContextFactory", None)
    certificate = getattr(options, "certificate", None)
    toCryptography = getattr(certificate, "to_cryptography", None)
    if toCryptography is None:
        return None
    return fingerprint.ofCertificate(toCryptography())


@implementer(IStreamServerEndpoint)
class _Reporting:
    """
    An endpoint that tells its L{ListenerService} how listening went.

    L{StreamServerEndpointService} logs a late failure and serves on
    without a port; this sees the outcome first, so that a failure at once
    is raised as one line and a late one stops the server.
    """

    def __init__(self, endpoint: IStreamServerEndpoint, service: ListenerService) -> None:
        self.endpoint = endpoint
        self.service = service

    def listen(self, factory: IProtocolFactory) -> Deferred[IListeningPort]:
        late = False

        def failed(failure: Failure) -> Failure | None:
            if failure.check(CancelledError):  # stopped before it listened
                return failure
            error = cannotListen(self.service.label, failure.value)
            if not late:
                return Failure(error)  # raised by privilegedStartService
            self.service.failedLate(error)
            return None

        listening = self.endpoint.listen(factory)
        listening.addCallbacks(self.service._bound, failed)
        late = True
        return listening


class ListenerService(StreamServerEndpointService):
    """
    Listens on C{endpoint} with C{factory} while running.

    Listening starts in L{privilegedStartService}, so twistd binds low ports
    before it drops privileges; a failure to bind is raised there and then,
    as a L{StartupError}, so twistd reports it instead of running a server
    that serves nothing. An endpoint may also fail later (one that resolves
    a name, say): then C{failedLate} is told (the server stops, see
    L{chatroom.startup.ServerService.failLate}).

    @ivar port: the listening port, once bound.
    @ivar fingerprint: the TLS certificate's fingerprint, for a TLS listener.
    """

    log = Logger()
    _raiseSynchronously = True

    def __init__(
        self,
        endpoint: IStreamServerEndpoint,
        factory: IProtocolFactory,
        label: str,
        failedLate: Callable[[StartupError], None],
    ) -> None:
        """
        @param failedLate: told if listening fails after start-up.
        """
        super().__init__(_Reporting(endpoint, self), factory)
        self.label = label
        self.fingerprint = tlsFingerprint(endpoint)
        self.failedLate = failedLate
        self.port: IListeningPort | None = None

    @property
    def bound(self) -> bool:
        """
        Whether listening began (and so must be stopped).
        """
        return self._waitingForPort is not None

    def _bound(self, port: IListeningPort) -> IListeningPort:
        self.port = port
        self.log.info(
            "chatroom listening for {label} on {address}",
            label=self.label,
            address=describe(port.getHost()),
        )
        if self.fingerprint is not None:
            # What users check their client against (chatclient shows it too).
            self.log.info(
                "chatroom's TLS certificate for {label}: {fingerprint}",
                label=self.label,
                fingerprint=self.fingerprint,
            )
        return port

    def privilegedStartService(self) -> None:
        try:
            super().privilegedStartService()
        except BaseException:
            self._waitingForPort = None
            raise

    def stopService(self) -> Deferred[None] | None:
        self.port = None
        if self._waitingForPort is None:  # never listened
            self.running = False
            return None
        d = super().stopService()
        self._waitingForPort = None
        return d


UDP_BUFFER = 4 * 1024 * 1024


class DatagramDoor(Protocol):
    """
    What a UDP listener serves: a datagram protocol that can shut down
    gracefully (L{ChatDatagramProtocol}, or the DTLS door in front of one).
    """

    def shutDown(self) -> Deferred[None]: ...


class UDPListenerService(Service):
    """
    Serves a L{ChatDatagramProtocol} on a UDP port while running.

    Twisted has no endpoints for datagrams, so this listens directly, in
    L{privilegedStartService} like L{ListenerService}, and a failure is a
    L{StartupError} line just the same (binding a datagram port cannot fail
    late). On stop it keeps the socket open until every UDP session has been
    said goodbye to (or the shutdown grace has passed): unlike TCP, the
    listening socket is the only way to reach them.
    """

    log = Logger()

    def __init__(
        self,
        reactor: IReactorUDP,
        portNumber: int,
        interface: str,
        protocol: ChatDatagramProtocol | DatagramDoor,
        label: str = "UDP",
        fingerprint: str | None = None,
    ) -> None:
        """
        @param label: what the console calls it (C{UDP}, C{DTLS}).
        @param fingerprint: the certificate's, logged once bound (DTLS).
        """
        self.reactor = reactor
        self.label = label
        self.fingerprint = fingerprint
        self.portNumber = portNumber
        self.interface = interface
        self.protocol = protocol
        self.port: IListeningPort | None = None

    @property
    def bound(self) -> bool:
        """
        Whether listening began (and so must be stopped).
        """
        return self.port is not None

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
                self.portNumber,
                self.protocol,  # type: ignore[arg-type]
                interface=self.interface,
                maxPacketSize=65535,
            )
        except CannotListenError as e:
            raise cannotListen(self.label, e) from None
        # Every session may have 64 frames in flight, so acknowledgements
        # come back in bursts: the default buffers (~200 KB, a few hundred
        # datagrams) would drop most of them. The kernel caps what we ask.
        sock = ISystemHandle(self.port).getHandle()
        assert isinstance(sock, socket.socket)
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            sock.setsockopt(socket.SOL_SOCKET, option, UDP_BUFFER)
        self.log.info(
            "chatroom listening for {label} on {address}",
            label=self.label,
            address=describe(self.port.getHost()),
        )
        if self.fingerprint is not None:
            self.log.info(
                "chatroom's TLS certificate for {label}: {fingerprint}",
                label=self.label,
                fingerprint=self.fingerprint,
            )

    def stopService(self) -> Deferred[None]:
        super().stopService()
        port, self.port = self.port, None

        def close(result: object) -> object:
            if port is not None:
                return port.stopListening()
            return None

        return self.protocol.shutDown().addBoth(close)
