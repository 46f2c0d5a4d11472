"""
chatroom: a small self-hosted chat room server, over TCP and UDP, on Twisted.

The wire contract is described in docs/protocol.rst.
"""

__version__ = "0.1.0"
