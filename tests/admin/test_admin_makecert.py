"""
C{chatroom-admin make-cert}: a real process writes an EC P-256 key (mode 600)
and a self-signed certificate for the names asked, prints its SHA-256
fingerprint in the one form L{chatroom.fingerprint} defines, never
overwrites a file; a real C{twistd} serving TLS with them logs the same
fingerprint, and a TLS client that trusts the certificate verifies it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import ssl
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from helpers.admin import oneMistake
from helpers.wire import twistdServer

from chatroom import fingerprint

Admin = Callable[..., subprocess.CompletedProcess[str]]

FINGERPRINT = re.compile(r"SHA256:[0-9A-F]{2}(?::[0-9A-F]{2}){31}")


def printedFingerprint(out: str) -> str:
    [line] = [line for line in out.splitlines() if line.startswith("fingerprint: ")]
    shown = line.removeprefix("fingerprint: ")
    assert FINGERPRINT.fullmatch(shown), shown
    return shown


def test_defaults(admin: Admin, tmp_path: Path) -> None:
    result = admin("make-cert")
    assert result.returncode == 0, result.stderr
    keyPath, certPath = tmp_path / "chatroom-key.pem", tmp_path / "chatroom-cert.pem"
    assert stat.S_IMODE(keyPath.stat().st_mode) == 0o600
    key = load_pem_private_key(keyPath.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"
    cert = x509.load_pem_x509_certificate(certPath.read_bytes())
    assert cert.public_key() == key.public_key()
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [socket.gethostname(), "localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert 3650 <= days <= 3651
    # The digest of the DER certificate, as openssl x509 -fingerprint -sha256 prints it.
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(certPath.read_text())).hexdigest().upper()
    expected = "SHA256:" + ":".join(digest[i : i + 2] for i in range(0, 64, 2))
    assert printedFingerprint(result.stdout) == expected


def test_hosts_days_and_paths(admin: Admin, tmp_path: Path) -> None:
    (tmp_path / "tls").mkdir()
    result = admin(
        "make-cert",
        "--host",
        "chat.example.org",
        "--host",
        "::1",
        "--days",
        "30",
        "--key",
        "tls/k.pem",
        "--cert",
        "tls/c.pem",
    )
    assert result.returncode == 0, result.stderr
    cert = x509.load_pem_x509_certificate((tmp_path / "tls/c.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["chat.example.org"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("::1")]
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 30
    assert printedFingerprint(result.stdout) == fingerprint.ofCertificate(cert)


def test_never_overwrites(admin: Admin, tmp_path: Path) -> None:
    (tmp_path / "chatroom-cert.pem").write_text("mine\n")
    oneMistake(admin("make-cert"), "chatroom-cert.pem exists already")
    assert (tmp_path / "chatroom-cert.pem").read_text() == "mine\n"
    assert not (tmp_path / "chatroom-key.pem").exists()
    (tmp_path / "chatroom-cert.pem").unlink()
    assert admin("make-cert").returncode == 0
    key = (tmp_path / "chatroom-key.pem").read_bytes()
    oneMistake(admin("make-cert"), "chatroom-key.pem exists already")
    assert (tmp_path / "chatroom-key.pem").read_bytes() == key


def test_mistakes(admin: Admin, tmp_path: Path) -> None:
    oneMistake(admin("make-cert", "--host", "not a name"), "neither a host name nor an IP")
    oneMistake(admin("make-cert", "--key", "x.pem", "--cert", "x.pem"), "the same file")
    oneMistake(admin("make-cert", "--key", "no/dir/k.pem"), "cannot write no/dir/k.pem")
    assert admin("make-cert", "--days", "0").returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_fingerprint_form() -> None:
    shown = fingerprint.ofDER(b"certificate")
    assert FINGERPRINT.fullmatch(shown)
    assert fingerprint.parse(shown.lower()) == shown
    assert fingerprint.parse(shown.removeprefix("SHA256:")) == shown
    for bad in ("SHA256:AB:CD", shown.replace(":", ""), shown + ":00", "MD5:" + shown[7:]):
        with pytest.raises(ValueError):
            fingerprint.parse(bad)


def test_the_server_logs_its_fingerprint(admin: Admin, tmp_path: Path) -> None:
    made = admin("make-cert", "--host", "localhost")
    assert made.returncode == 0, made.stderr
    printed = printedFingerprint(made.stdout)
    key, cert = tmp_path / "chatroom-key.pem", tmp_path / "chatroom-cert.pem"
    server = twistdServer(
        tmp_path, "--tcp", f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    )
    try:
        assert f"chatroom's TLS certificate for TCP: {printed}" in server.log()
        # A client that trusts the certificate verifies it, and is shown the same one.
        context = ssl.create_default_context(cafile=str(cert))
        raw = socket.create_connection(("127.0.0.1", server.ports["TCP"]), timeout=10)
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            der = tls.getpeercert(binary_form=True)
            assert der is not None
            assert fingerprint.ofDER(der) == printed
            assert tls.recv(100).startswith(b"C HELLO chatroom")
    finally:
        server.stop()
    (tmp_path / "plain").mkdir()
    plain = twistdServer(tmp_path / "plain")
    try:
        assert "TLS certificate" not in plain.log()
    finally:
        plain.stop()
