"""
C{chatclient --tls} against a certificate no authority signed, as SSH does
with host keys: real C{chatclient} processes, on a pseudo-terminal and
piped, against a real C{twistd chatroom} serving TLS with a certificate
C{chatroom-admin make-cert} wrote, the known-servers file in a temporary
C{XDG_CONFIG_HOME}.

At a terminal: shown the fingerprint and asked once, a yes remembered (mode
600), then silent; a changed certificate refused with both fingerprints and
how to remove the old line, never asked. Piped: refused with a sentence
unless known or named by C{--fingerprint}.
"""

from __future__ import annotations

import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from helpers.certs import selfSigned
from helpers.terminal import Screen
from helpers.wire import ServerProcess, installed, runChatclient, twistdServer

FINGERPRINT = re.compile(r"SHA256:[0-9A-F]{2}(?::[0-9A-F]{2}){31}")
QUESTION = "Trust this certificate and remember it? [y/N]:"


class TLSServer:
    """
    twistd serving TLS on one port with a make-cert certificate; it can be
    started again on that port with a new certificate.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.generation = 0
        self.port = 0
        self.server: ServerProcess | None = None
        self.fingerprint = ""
        self.start()

    def start(self) -> None:
        self.generation += 1
        key = self.directory / f"key{self.generation}.pem"
        cert = self.directory / f"cert{self.generation}.pem"
        made = subprocess.run(
            [installed("chatroom-admin"), "make-cert", "--key", str(key), "--cert", str(cert)],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        [self.fingerprint] = FINGERPRINT.findall(made.stdout)
        self.server = twistdServer(
            self.directory,
            "--no-udp",
            "--no-web",
            "--tcp",
            f"ssl:{self.port}:interface=127.0.0.1:privateKey={key}:certKey={cert}",
        )
        self.port = self.server.ports["TCP"]

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home / "chatroom" / "known-servers"


@pytest.fixture
def tlsServer(tmp_path: Path) -> Iterator[TLSServer]:
    server = TLSServer(tmp_path)
    yield server
    server.stop()


def piped(*args: str, lines: str = "pw\nEX\n") -> tuple[int, str]:
    return runChatclient(*args, lines=lines)


def shown(screen: Screen) -> str:
    """
    The screen's text with wrapped lines joined again (a fingerprint is
    longer than a line).
    """
    return "".join(screen.lines())


def ended(screen: Screen) -> int:
    screen.child.expect(pexpect.EOF, timeout=20)
    if isinstance(screen.child.before, bytes):  # what came before the end: on screen
        screen.stream.feed(screen.child.before)
    screen.child.close()
    status = screen.child.exitstatus
    assert isinstance(status, int)
    return status


def test_asked_once_then_silent_then_a_changed_certificate_is_refused(
    tlsServer: TLSServer, config: Path
) -> None:
    port = str(tlsServer.port)
    first = tlsServer.fingerprint
    # First connection: the fingerprint, and the question.
    screen = Screen("--tls", "localhost", port, "amy")
    try:
        screen.waitFor("is not signed by an authority this computer trusts")
        screen.waitForPrompt(QUESTION)
        assert first in shown(screen)
        assert not config.exists()
        screen.type("y\r")
        screen.waitFor("Remembered in")
        screen.waitFor("Choose a password for amy:")
        screen.type("pw\r")
        screen.waitFor("Type the same password again:")
        screen.type("pw\r")
        screen.waitForPrompt("Operation [PM/DM/EX]:")
        screen.type("EX\r")
        assert ended(screen) == 0
    finally:
        screen.child.close(force=True)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert f"localhost {port} {first}" in config.read_text().splitlines()
    assert not [p for p in config.parent.iterdir() if p.name != "known-servers"]  # no temp left

    # Again: no question.
    screen = Screen("--tls", "localhost", port, "amy")
    try:
        screen.waitFor("Password:")
        assert "certificate" not in shown(screen) and "Trust" not in shown(screen)
        screen.type("pw\r")
        screen.waitForPrompt("Operation [PM/DM/EX]:")
        screen.type("EX\r")
        assert ended(screen) == 0
    finally:
        screen.child.close(force=True)

    # Piped, it is known too.
    status, out = piped("--tls", "localhost", port, "amy")
    assert status == 0 and "Bye." in out, out

    # A new certificate on the same port: refused, loudly, never asked.
    tlsServer.stop()
    tlsServer.start()
    second = tlsServer.fingerprint
    assert second != first and str(tlsServer.port) == port
    screen = Screen("--tls", "localhost", port, "amy")
    try:
        assert ended(screen) == 3
        text = shown(screen)
    finally:
        screen.child.close(force=True)
    assert "HAS CHANGED" in text and first in text and second in text, text
    assert f"remove line 3 of {config}" in text, text
    assert QUESTION not in text and "Password" not in text
    assert f"localhost {port} {first}" in config.read_text().splitlines()  # left as it was
    status, out = piped("--tls", "localhost", port, "amy")
    assert status == 3 and "HAS CHANGED" in out and first in out and second in out, out


def test_no_means_not_connected_and_nothing_remembered(tlsServer: TLSServer, config: Path) -> None:
    screen = Screen("--tls", "localhost", str(tlsServer.port), "bob")
    try:
        screen.waitForPrompt(QUESTION)
        screen.type("\r")  # the default is No
        assert ended(screen) == 3
        assert "Not connected: the certificate is not trusted." in shown(screen)
    finally:
        screen.child.close(force=True)
    assert not config.exists()
    assert "bob" not in tlsServer.server.log() if tlsServer.server else True


def test_piped_unknown_is_refused_with_a_sentence(tlsServer: TLSServer, config: Path) -> None:
    status, out = piped("--tls", "localhost", str(tlsServer.port), "cem")
    assert status == 3, out
    assert "is not signed by an authority this computer trusts, and it is not a known one" in out
    assert f"--fingerprint {tlsServer.fingerprint}" in out
    assert "Traceback" not in out and "Password" not in out and "Choose" not in out
    assert not config.exists()


def test_piped_with_the_fingerprint(tlsServer: TLSServer, config: Path) -> None:
    port = str(tlsServer.port)
    fingerprint = tlsServer.fingerprint
    # Typed in lower case and without the prefix, it is the same fingerprint.
    typed = fingerprint.removeprefix("SHA256:").lower()
    status, out = piped("--tls", "--fingerprint", typed, "127.0.0.1", port, "dee")
    assert status == 0 and "Welcome dee, you are connected via TCP." in out, out
    assert not config.exists()  # a script's --fingerprint is not written down
    wrong = "SHA256:" + ":".join(["AB"] * 32)
    status, out = piped("--tls", "--fingerprint", wrong, "127.0.0.1", port, "dee")
    assert status == 3, out
    assert "does not have the fingerprint --fingerprint gave" in out
    assert wrong in out and fingerprint in out and "Password" not in out


@pytest.mark.parametrize(
    "args, said",
    [
        (["--fingerprint", "SHA256:AB"], "--fingerprint goes with --tls"),
        (["--tls", "--insecure", "--fingerprint", "AB"], "--fingerprint goes with --tls"),
        (["--tls", "--fingerprint", "SHA256:AB:CD"], "is not a SHA-256 fingerprint"),
    ],
)
def test_bad_fingerprint_options(args: list[str], said: str) -> None:
    status, out = piped(*args, "127.0.0.1", "9", "x")
    assert status == 2 and said in out, out
    assert "Traceback" not in out


def test_turkish_question(tlsServer: TLSServer, config: Path) -> None:
    screen = Screen("--lang", "tr", "--tls", "localhost", str(tlsServer.port), "ece")
    try:
        screen.waitForPrompt("Bu sertifikaya güvenilip hatırlansın mı? [e/H]:")
        assert tlsServer.fingerprint in shown(screen)
        screen.type("e\r")
        screen.waitFor("ece için bir parola seçin:")
        screen.child.sendcontrol("c")
        ended(screen)
    finally:
        screen.child.close(force=True)
    assert tlsServer.fingerprint in config.read_text()


def test_an_authority_signed_certificate_is_trusted_silently(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    A certificate an authority of the system's store signed (here: the
    store is C{SSL_CERT_FILE}, which OpenSSL reads) connects as before,
    at a terminal or piped, and nothing is written; for another name it
    is only a certificate like any other, judged by its fingerprint.
    """
    key, cert = selfSigned(tmp_path, "localhost")  # its own authority (CA:TRUE)
    server = twistdServer(
        tmp_path,
        "--no-udp",
        "--no-web",
        "--tcp",
        f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}",
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    try:
        port = str(server.ports["TCP"])
        status, out = piped("--tls", "localhost", port, "fay")
        assert status == 0 and "Welcome fay" in out, out
        screen = Screen("--tls", "localhost", port, "fay")
        try:
            screen.waitFor("Password:")
            assert "certificate" not in shown(screen)
        finally:
            screen.child.close(force=True)
        assert not config.exists()
        status, out = piped("--tls", "127.0.0.1", port, "fay")
        assert status == 3 and "--fingerprint SHA256:" in out, out
        assert "is signed by an authority this computer trusts, but for another name" in out
    finally:
        server.stop()


def test_an_unreadable_file_is_said_plainly(tlsServer: TLSServer, config: Path) -> None:
    config.mkdir(parents=True)  # a directory where the file should be
    status, out = piped("--tls", "localhost", str(tlsServer.port), "gus")
    assert status == 3, out
    assert f"Cannot read {config}:" in out and "not connected" in out
    assert "Traceback" not in out and "Password" not in out
