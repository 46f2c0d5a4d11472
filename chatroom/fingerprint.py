"""
Certificate fingerprints, as people compare them: C{SHA256:} and the SHA-256
digest of the certificate's DER bytes in upper-case hexadecimal pairs joined
by colons (C{SHA256:3F:A0:...}), the form OpenSSL's C{x509 -fingerprint}
prints.

One module, because three places must agree on it to the character:
C{chatroom-admin make-cert} prints it, the server logs its own at start, and
the client shows the one it is offered and compares it with the one it knows.
"""

from __future__ import annotations

import hashlib
import re

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

PREFIX = "SHA256:"

_HEX_PAIRS = re.compile(r"[0-9A-F]{2}(?::[0-9A-F]{2}){31}")


def ofDER(der: bytes) -> str:
    """
    The fingerprint of a certificate given as DER bytes.
    """
    digest = hashlib.sha256(der).hexdigest().upper()
    return PREFIX + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def ofCertificate(certificate: x509.Certificate) -> str:
    """
    The fingerprint of a certificate as C{cryptography} holds one.
    """
    return ofDER(certificate.public_bytes(Encoding.DER))


def ofPEM(pem: bytes) -> str:
    """
    The fingerprint of the first certificate in PEM text.

    @raise ValueError: if C{pem} holds no certificate.
    """
    return ofCertificate(x509.load_pem_x509_certificate(pem))


def parse(text: str) -> str:
    """
    A fingerprint someone typed or pasted, in our form: the prefix is
    optional and case does not matter, the colons do (so that a truncated
    or mistyped one is refused rather than compared).

    @raise ValueError: if C{text} is not a SHA-256 fingerprint.
    """
    value = text.strip()
    if value[: len(PREFIX)].upper() == PREFIX:
        value = value[len(PREFIX) :]
    value = value.upper()
    if not _HEX_PAIRS.fullmatch(value):
        raise ValueError(
            f"{text!r} is not a SHA-256 fingerprint (SHA256: then 32 hex pairs joined by ':')"
        )
    return PREFIX + value
