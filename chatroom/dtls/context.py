"""
The C{--dtls} option's description and the server's OpenSSL context made from it.

The description reads like a Twisted endpoint description
(C{PORT:privateKey=KEY:certKey=CERT[:interface=ADDR]}, C{:} and C{=} in a value escaped
with C{\\}), so an operator writes it as they write C{--tcp ssl:...}; and the same key and
certificate files serve both.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from OpenSSL import SSL, crypto

from chatroom import fingerprint

#: DTLS 1.2's version number on the wire (pyOpenSSL names no DTLS versions).
DTLS1_2_VERSION = 0xFEFD


@dataclass(frozen=True, slots=True)
class DTLSSpec:
    """
    Where the DTLS door listens and with which key and certificate.
    """

    port: int
    privateKey: str
    certKey: str
    interface: str | None = None


def _split(text: str, separator: str) -> list[str]:
    """
    C{text} split at each C{separator} not escaped with a backslash, the
    escapes removed.
    """
    parts = [""]
    escaped = False
    for char in text:
        if escaped:
            parts[-1] += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("")
        else:
            parts[-1] += char
    return parts


def parseDTLS(description: str) -> DTLSSpec:
    """
    The C{--dtls} description, checked word by word (the files are opened
    later, by L{serverContext}).

    @raise ValueError: with the reason, for the user.
    """
    words = []
    # Split at unescaped ':' but keep the escapes for the '=' split.
    current = ""
    escaped = False
    for char in description:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            words.append(current)
            current = ""
        else:
            current += char
    words.append(current)
    port, *options = words
    if not (port.isascii() and port.isdigit() and 0 <= int(port) <= 65535):
        raise ValueError(f"{port!r} is not a port: give a number from 0 to 65535 (0: any free)")
    values: dict[str, str] = {}
    for option in options:
        key, *rest = _split(option, "=")
        if len(rest) != 1 or key not in ("privateKey", "certKey", "interface"):
            raise ValueError(
                f"{option!r} is not privateKey=FILE, certKey=FILE or interface=ADDRESS"
            )
        if key in values:
            raise ValueError(f"{key} is given twice")
        values[key] = rest[0]
    for needed in ("privateKey", "certKey"):
        if not values.get(needed):
            raise ValueError(f"{needed}=FILE is missing")
    interface = values.get("interface")
    if interface is not None:
        try:
            ipaddress.ip_address(interface)
        except ValueError:
            raise ValueError(f"interface {interface!r} is not an IP address") from None
    return DTLSSpec(int(port), values["privateKey"], values["certKey"], interface)


def serverContext(spec: DTLSSpec) -> tuple[SSL.Context, str]:
    """
    The server's DTLS context: DTLS 1.2 or newer, the key and certificate
    of C{spec}, and the certificate's fingerprint to log.

    The MTU is set on each connection (see L{chatroom.dtls.records.MTU}),
    never asked of the kernel: a memory BIO has no socket to ask.

    @raise ValueError: if a file cannot be read or the key does not fit
        the certificate, with the reason.
    """
    context = SSL.Context(SSL.DTLS_METHOD)
    context.set_min_proto_version(DTLS1_2_VERSION)
    # No renegotiation: one handshake per association, and a peer cannot
    # make the server pay for more.
    context.set_options(SSL.OP_NO_QUERY_MTU | SSL.OP_NO_COMPRESSION | SSL.OP_NO_RENEGOTIATION)
    try:
        for path in (spec.privateKey, spec.certKey):  # OpenSSL would not say which, or why
            with open(path, "rb"):
                pass
        context.use_certificate_chain_file(spec.certKey)
        context.use_privatekey_file(spec.privateKey)
        context.check_privatekey()
        with open(spec.certKey, "rb") as f:
            certificate = crypto.load_certificate(crypto.FILETYPE_PEM, f.read())
    except (OSError, SSL.Error, crypto.Error) as e:
        raise ValueError(f"cannot use the key and certificate: {_reason(e)}") from None
    return context, fingerprint.ofCertificate(certificate.to_cryptography())


def _reason(error: Exception) -> str:
    if isinstance(error, OSError):
        return f"{error.filename}: {error.strerror}"
    details = error.args[0] if error.args else None
    if isinstance(details, list) and details:
        words = [str(item[-1]) for item in details if item and item[-1]]
        if words:
            return "; ".join(words)
    return str(error) or type(error).__name__
