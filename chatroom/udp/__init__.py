"""
The UDP transport: numbered datagrams made reliable by L{chatroom.reliable}, one socket
for every session. Its parts: L{handshake} (HELLO, no I/O), L{channel} (one session's
lifecycle), L{ticker} (the shared timer), L{protocol} (the socket and session table)
and L{timings}.
"""

from chatroom.udp.protocol import ChatDatagramProtocol
from chatroom.udp.timings import UDPTimings

__all__ = ["ChatDatagramProtocol", "UDPTimings"]
