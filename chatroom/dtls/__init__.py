"""
UDP inside DTLS 1.2 (PROTOCOL.md section 13): a door in front of the plain UDP server of
L{chatroom.udp}, which runs underneath unchanged, one session per DTLS association.

Its parts: L{records} (the record layer's framing, no crypto), L{context} (the server's
OpenSSL context and the C{--dtls} description), L{gate} (the stateless cookie exchange),
L{association} (one peer's DTLS connection and its lifecycle) and L{door} (the socket's
protocol that routes datagrams to associations and feeds the plain UDP server).
"""

from chatroom.dtls.context import DTLSSpec, parseDTLS, serverContext
from chatroom.dtls.door import DTLSDoor

__all__ = ["DTLSDoor", "DTLSSpec", "parseDTLS", "serverContext"]
