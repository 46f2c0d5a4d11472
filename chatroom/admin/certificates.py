"""
C{chatroom-admin make-cert}: a private key and a self-signed certificate for
the server's TLS listeners (C{ssl:...:privateKey=KEY:certKey=CERT}), and its
fingerprint (L{chatroom.fingerprint}) for the operator to give to users, who
check it as SSH users check a host key.

The key is EC P-256, written readable by its owner only. Existing files are
never overwritten: a server's certificate that changes makes every client
that remembered it refuse to connect, so replacing one must be deliberate
(remove the old files first).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from collections.abc import Sequence
from typing import TextIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chatroom import fingerprint
from chatroom.admin.errors import AdminError


def defaultHosts() -> list[str]:
    """
    The names a certificate is for when none are given: this machine's host
    name, C{localhost} and C{127.0.0.1}.
    """
    hosts = [socket.gethostname(), "localhost", "127.0.0.1"]
    return [h for i, h in enumerate(hosts) if h and h not in hosts[:i]]


def subjectNames(hosts: Sequence[str]) -> list[x509.GeneralName]:
    """
    The certificate's subject alternative names: an IP address for each
    address, a DNS name for each other name.

    @raise AdminError: for a name that is neither.
    """
    general: list[x509.GeneralName] = []
    for host in hosts:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(host)))
            continue
        except ValueError:
            pass
        labels = host.rstrip(".").split(".")
        if (
            not host
            or not all(
                0 < len(label) <= 63 and label.replace("-", "").replace("*", "").isalnum()
                for label in labels
            )
            or not host.isascii()
        ):
            raise AdminError(f"--host {host!r} is neither a host name nor an IP address")
        general.append(x509.DNSName(host.rstrip(".")))
    return general


def certificate(
    key: ec.EllipticCurvePrivateKey, hosts: Sequence[str], days: int, now: datetime.datetime
) -> x509.Certificate:
    """
    A self-signed certificate for C{hosts}, valid from a little before
    C{now} for C{days} days.

    It is its own authority (C{CA:TRUE}, no path below it), so that a client
    may also trust it as a C{--cafile}, which OpenSSL's strict checks allow
    only for an authority.
    """
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(subjectNames(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _writeNew(path: str, data: bytes, mode: int) -> None:
    """
    Write C{data} to C{path}, which must not exist, created with C{mode}.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def make(hosts: Sequence[str] | None, days: int, keyPath: str, certPath: str, out: TextIO) -> str:
    """
    Write a new key to C{keyPath} (mode 600) and a certificate for C{hosts}
    to C{certPath}; say where, and the fingerprint, on C{out}. Returns the
    fingerprint.

    @raise AdminError: if either file exists already or cannot be written,
        or a host is not a name; then nothing is left behind.
    """
    hosts = list(hosts) if hosts else defaultHosts()
    if os.path.abspath(keyPath) == os.path.abspath(certPath):
        raise AdminError("--key and --cert name the same file")
    for path in (keyPath, certPath):
        if os.path.lexists(path):
            raise AdminError(f"{path} exists already: it is never overwritten (remove it first)")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(key, hosts, days, datetime.datetime.now(datetime.UTC))
    keyBytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        _writeNew(keyPath, keyBytes, 0o600)
    except OSError as e:
        raise AdminError(f"cannot write {keyPath}: {e.strerror}") from None
    try:
        _writeNew(certPath, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    except OSError as e:
        os.unlink(keyPath)
        raise AdminError(f"cannot write {certPath}: {e.strerror}") from None
    shown = fingerprint.ofCertificate(cert)
    print(f"key: {keyPath}", file=out)
    print(f"certificate: {certPath} (for {', '.join(hosts)}; {days} days)", file=out)
    print(f"fingerprint: {shown}", file=out, flush=True)
    return shown
