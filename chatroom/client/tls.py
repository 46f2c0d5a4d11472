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
from twisted.python.failure import Failure

from chatroom.client.text import _

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
    or the system's store, or (C{insecure}) not at all.
    """
    if insecure:
        return ssl.CertificateOptions(verify=False)
    trust = trustFrom(cafile) if cafile is not None else None
    return ssl.optionsForClientTLS(host, trustRoot=trust)


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
