"""
What Twisted's TCP, TLS and UDP transports give this project, each as one interface, and
how the console writes their addresses (L{describe}).

The interfaces are for the type checker: every piece is Twisted's own, but no single
interface of Twisted's says that a connection is also a producer and a consumer, or what a
UDP port's handle is; nothing declares these, and nothing checks them at run time.
"""

from __future__ import annotations

import socket

from twisted.internet.interfaces import (
    IAddress,
    IConsumer,
    IPushProducer,
    ISystemHandle,
    ITCPTransport,
    IUDPTransport,
)
from zope.interface import Attribute

#: An IPv4 or IPv6 socket address, as C{getaddrinfo} gives it (IPv6 with its
#: flow and scope).
SocketAddress = tuple[str, int] | tuple[str, int, int, int]


class IConnection(ITCPTransport, IConsumer, IPushProducer):
    """
    The transport of a TCP or TLS connection: Twisted's TCP transport and
    its TLS wrapper both provide all of this.
    """

    disconnecting = Attribute("True once the connection is being closed.")


class IUDPPort(IUDPTransport, ISystemHandle):
    """
    A UDP port as C{IReactorUDP.listenUDP} makes it (L{twisted.internet.udp.Port}).
    """

    connected = Attribute("True while the port is open.")

    def write(packet: bytes, addr: SocketAddress | None = None) -> None:
        """
        Send C{packet} to C{addr}; a connected port may leave C{addr} out.
        """

    def getHandle() -> socket.socket:
        """
        The port's socket.
        """


def describe(address: IAddress) -> str:
    """
    C{host:port} for the console, whatever kind of address it is.
    """
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    return str(address) if host is None else f"{host}:{port}"
