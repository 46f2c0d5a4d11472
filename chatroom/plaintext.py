"""
Where the server takes a password that crosses the network as it was typed
(C{--plaintext-logins}, PROTOCOL.md section 13): the rule, written once.

A door knows two things about each of its sessions and reports them through
L{chatroom.pipeline.IChannel}: whether its frames travel inside TLS, DTLS or
wss (C{encrypted}), and whether the peer is on this machine (C{loopback}, see
L{isLoopback}). The room asks L{allows}; no door decides, so a door added
later (DTLS, IRC) only has to report the two facts.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum


class PlaintextLogins(StrEnum):
    """
    The values of C{--plaintext-logins}.
    """

    #: Passwords in clear from anywhere (1.1's behaviour, the default).
    ANYWHERE = "anywhere"
    #: Only from this machine: 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
    LOOPBACK = "loopback"
    #: Never: a password must travel inside TLS, DTLS or wss.
    NOWHERE = "nowhere"


#: What C{C ERR INSECURE} says.
REFUSAL = "this server takes passwords only over an encrypted connection (TLS, DTLS or wss)"


def isLoopback(address: str) -> bool:
    """
    Whether C{address} (as a door reports its peer) is this machine:
    127.0.0.0/8, C{::1}, or an IPv4 loopback address mapped into IPv6
    (C{::ffff:127.0.0.1}, as a dual-stack socket reports one). Anything that
    is not an IP address (a UNIX socket's path) is not.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # no zone index
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def allows(where: PlaintextLogins, encrypted: bool, loopback: bool) -> bool:
    """
    Whether a C{C LOGIN} may go on over a session that is C{encrypted} or
    not, from a peer on this machine (C{loopback}) or not.
    """
    if encrypted or where is PlaintextLogins.ANYWHERE:
        return True
    return where is PlaintextLogins.LOOPBACK and loopback
