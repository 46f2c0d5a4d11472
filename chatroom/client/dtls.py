"""
C{chatclient --udp --tls}: the UDP transport inside DTLS.

The client's plain UDP transport (L{UDPClientProtocol}) runs unchanged inside: its
datagrams are sealed into one DTLS association with the server (the same
L{Association} the server uses, its handshake resent on the reactor's clock), and what
the association opens is handed to it as if from the socket. So reconnecting, keepalive,
the lost-server messages and GHOST work as over plain UDP.

Whom to trust is decided as for TCP's C{--tls}: C{--cafile}, the system's authorities,
or nobody checked (C{--insecure}); the name is checked once the handshake is done.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from OpenSSL import SSL
from service_identity import VerificationError
from service_identity.pyopenssl import verify_hostname, verify_ip_address
from twisted.internet.error import MessageLengthError
from twisted.internet.interfaces import IReactorTime, IReactorUDP
from twisted.internet.protocol import DatagramProtocol
from twisted.python.failure import Failure

from chatroom.client.text import _
from chatroom.client.tls import BadCAFile, trustFrom
from chatroom.client.transports import Listener, UDPClientProtocol
from chatroom.client.trust import ChainCheck
from chatroom.dtls.association import OPEN, Association
from chatroom.dtls.context import DTLS1_2_VERSION
from chatroom.dtls.records import MTU
from chatroom.sockets import IUDPPort, SocketAddress

#: Datagrams the session may send before the handshake is done (its C{C LOGIN}
#: and a few more); beyond that they are dropped, and the link resends them.
EARLY_LIMIT = 64


class DTLSOptions:
    """
    The client's DTLS context for one server name, made once per run.

    @raise BadCAFile: if C{cafile} cannot be used.
    """

    def __init__(self, host: str, cafile: str | None, insecure: bool) -> None:
        self.host = host
        self.insecure = insecure
        #: Without C{--cafile} or C{--insecure}: OpenSSL's verdict on the chain,
        #: noted while every handshake finishes; the certificate is judged
        #: afterwards as over TCP (L{chatroom.client.trust}: the system's
        #: authorities, the known servers, C{--fingerprint}, the person).
        self.chain: ChainCheck | None = None
        context = SSL.Context(SSL.DTLS_METHOD)
        context.set_min_proto_version(DTLS1_2_VERSION)
        context.set_options(SSL.OP_NO_QUERY_MTU | SSL.OP_NO_COMPRESSION)
        if insecure:
            context.set_verify(SSL.VERIFY_NONE)
        else:
            context.set_verify(SSL.VERIFY_PEER, lambda *args: bool(args[-1]))
            if cafile is None:
                context.set_default_verify_paths()
                self.chain = ChainCheck()
                self.chain.install(context)
            else:
                trustFrom(cafile)  # the same checks, and words, as over TCP
                try:
                    context.load_verify_locations(cafile)
                except SSL.Error as e:
                    raise BadCAFile(
                        _("{file} holds a certificate that cannot be read").format(file=cafile)
                    ) from e
        self.context = context

    def connection(self) -> SSL.Connection:
        connection = SSL.Connection(self.context)
        connection.set_connect_state()
        connection.set_ciphertext_mtu(MTU)
        if not _isAddress(self.host):
            connection.set_tlsext_host_name(self.host.encode("idna"))
        return connection

    def check(self, connection: SSL.Connection) -> None:
        """
        @raise VerificationError: if the certificate is not for our server's name.
        """
        if self.insecure or self.chain is not None:  # judged by the trust rules instead
            return
        if _isAddress(self.host):
            verify_ip_address(connection, self.host)
        else:
            verify_hostname(connection, self.host)


def _isAddress(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _SealedPort:
    """
    The plain UDP transport's port: what it writes goes into the association.
    """

    def __init__(self, outer: DTLSClientProtocol) -> None:
        self._outer = outer
        self.connected = True

    def write(self, datagram: bytes, addr: Any = None) -> None:
        self._outer.sendPlain(datagram)

    def connect(self, host: str, port: int) -> None:
        self._outer.connectTo(host, port)

    def stopListening(self) -> None:
        self.connected = False
        self._outer.close()


class DTLSClientProtocol(DatagramProtocol):
    """
    One DTLS association with the server, carrying a L{UDPClientProtocol}.
    """

    transport: IUDPPort | None

    def __init__(
        self,
        server: SocketAddress,
        listener: Listener,
        clock: IReactorTime,
        options: DTLSOptions,
        probeWith: IReactorUDP | None = None,
    ) -> None:
        self.server = server
        self.listener = listener
        self.clock = clock
        self.options = options
        self.inner = UDPClientProtocol(server, listener, clock, probeWith=probeWith)
        self.association = Association(options.connection(), (server[0], server[1]), self, clock)
        self._early: list[bytes] = []
        self._connected = False
        self._over = False

    def startProtocol(self) -> None:
        self.inner.makeConnection(_SealedPort(self))  # type: ignore[arg-type]
        self.association.verified()

    def stopProtocol(self) -> None:
        self.inner.doStop()

    # The socket.

    def datagramReceived(self, data: bytes, addr: tuple[str, int]) -> None:
        if addr[1] == self.server[1]:  # as plain UDP: the port only (see UDPClientProtocol)
            self.association.feed(data)

    def connectionRefused(self) -> None:
        self.inner.connectionRefused()

    # The plain UDP transport inside (see _SealedPort).

    def sendPlain(self, datagram: bytes) -> None:
        if self.association.state is OPEN:
            self.association.send(datagram)
        elif len(self._early) < EARLY_LIMIT:
            self._early.append(datagram)

    def connectTo(self, host: str, port: int) -> None:
        if self.transport is not None and not self._connected:
            self._connected = True
            self.transport.connect(host, port)

    def close(self) -> None:
        """
        End the association (a C{close_notify}) and the socket.
        """
        self._over = True
        self.association.close()
        if self.transport is not None and self.transport.connected:
            self.transport.stopListening()

    # From the association (see AssociationHost).

    def sendDatagram(self, datagram: bytes, addr: tuple[str, int]) -> None:
        if self.transport is None or not self.transport.connected:
            return
        try:
            if self._connected:
                self.transport.write(datagram)
            else:
                self.transport.write(datagram, self.server)
        except (OSError, MessageLengthError):
            pass  # lost, as datagrams may be: DTLS or the link inside sends it again

    def opened(self, association: Association) -> None:
        try:
            self.options.check(association.connection)
        except VerificationError as e:
            self._over = True
            self.inner.close()
            self.listener.tlsFailed(Failure(e))
            return
        if self.options.chain is not None:
            # The client judges the certificate (and has sent nothing yet).
            self.listener.secured(association.connection)
        early, self._early = self._early, []
        for datagram in early:
            association.send(datagram)

    def plaintext(self, association: Association, datagram: bytes) -> None:
        self.inner.datagramReceived(datagram, (self.server[0], self.server[1]))

    def ended(self, association: Association, why: str) -> None:
        if self._over:
            return
        self._over = True
        failure = association.failure
        if failure is not None and not self.inner.connectedTo:
            # The handshake failed: most often a certificate we do not trust.
            self.inner.close()
            self.listener.tlsFailed(Failure(failure))
        else:
            self.listener.lost()  # the server closed the association, or it broke

    # What the client sees (as of UDPClientProtocol).

    def sendFrame(self, frame: str) -> None:
        self.inner.sendFrame(frame)

    def release(self) -> None:
        """
        The certificate was judged trusted. Nothing was held: inside DTLS
        the server says nothing before the client's C{C LOGIN}.
        """
