"""
TLS for C{chatclient --tls}: whom to trust, and failures in plain words.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from OpenSSL import SSL
from service_identity import VerificationError
from twisted.internet import ssl
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom.client.text import _
from chatroom.client.trust import ChainCheck

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


class BadCAFile(Exception):
    """
    The file given with C{--cafile} holds no certificate we can read.
    """


def trustFrom(cafile: str) -> Any:
    """
    A trust root made of every certificate in a PEM file (a bundle may hold several).
    """
    try:
        data = Path(cafile).read_bytes()
    except OSError as e:
        raise BadCAFile(_("cannot read {file}: {why}").format(file=cafile, why=e.strerror)) from e
    blocks = _PEM.findall(data)
    if not blocks:
        raise BadCAFile(_("{file} holds no PEM certificate").format(file=cafile))
    try:
        return ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(b) for b in blocks])
    except (SSL.Error, ValueError) as e:
        raise BadCAFile(
            _("{file} holds a certificate that cannot be read").format(file=cafile)
        ) from e


def clientOptions(host: str, cafile: str | None, insecure: bool) -> Any:
    """
    How to connect to C{host}: its certificate checked against C{cafile},
    or (C{insecure}) not at all. Without either, L{JudgedLater}.
    """
    if insecure:
        return ssl.CertificateOptions(verify=False)
    if cafile is None:
        return JudgedLater(host)
    return ssl.optionsForClientTLS(host, trustRoot=trustFrom(cafile))


@implementer(IOpenSSLClientConnectionCreator)
class JudgedLater:
    """
    TLS to C{host} whose every handshake finishes, its certificate judged
    afterwards by L{chatroom.client.trust} (an authority in the system's
    store, the known-servers file, C{--fingerprint}, the person), before
    the client sends or shows anything.
    """

    def __init__(self, host: str) -> None:
        self.host = host
        self.chain = ChainCheck()
        # Twisted's defaults (versions, ciphers) and the system's authorities...
        self._context = ssl.CertificateOptions(trustRoot=ssl.platformTrust()).getContext()
        # ...whose verdict is noted, not acted on.
        self.chain.install(self._context)

    def clientConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:
        connection = SSL.Connection(self._context, None)
        connection.set_app_data(tlsProtocol)
        connection.set_connect_state()
        if not isIPAddress(self.host) and not isIPv6Address(self.host):
            connection.set_tlsext_host_name(self.host.encode("idna"))
        return connection


def isTLSFailure(reason: Failure) -> bool:
    return reason.check(SSL.Error, VerificationError) is not None


def describe(reason: Failure) -> str:
    """
    What OpenSSL or the name check said, without the tuples around it.
    """
    error = reason.value
    if isinstance(error, SSL.Error) and error.args and isinstance(error.args[0], list):
        words = [str(entry[-1]) for entry in error.args[0] if entry]
        if words:
            return ", ".join(words)
    if isinstance(error, VerificationError):
        return _("the certificate is not for this server's name")
    return str(error) or type(error).__name__


def advice(reason: Failure) -> str:
    """
    What the user can do about a failed TLS connection.
    """
    if reason.check(VerificationError):
        return _(
            "The server's certificate was issued for another name: connect with the name"
            " it was issued for."
        )
    if "certificate" in describe(reason):
        return _(
            "The server's certificate could not be verified: give the certificate that"
            " signed it with --cafile FILE (or, for a test server only, use --insecure)."
        )
    return _("Is that a TLS port? Leave out --tls for a plain TCP server.")
