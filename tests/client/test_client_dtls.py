"""
C{chatclient --udp --tls} against a real C{twistd chatroom --dtls} process: DTLS users
chat with a TCP user; a recording relay between client and server finds no password,
no message text and no frame verb in what crossed (and finds them all over plain UDP,
so it can tell); GHOST and reconnecting work as over plain UDP.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pexpect
import pytest
from helpers.certs import selfSigned
from helpers.terminal import Screen
from helpers.wire import (
    ClientProcess,
    ServerProcess,
    blockingLoggedIn,
    pipedClient,
    runChatclient,
    twistdServer,
)

from chatroom import fingerprint
from chatroom.dtls.records import splitRecords

PASSWORD = "Wq9-dtls-only-secret"
SECRET_TEXT = "the eagle lands at dawn"


def dtlsOption(directory: Path, port: int = 0) -> str:
    return f"{port}:privateKey={directory / 'key.pem'}:certKey={directory / 'cert.pem'}"


@pytest.fixture
def dtlsServer(tmp_path):
    _, cert = selfSigned(tmp_path)
    server = twistdServer(tmp_path, "--dtls", dtlsOption(tmp_path))
    server.cert = cert
    yield server
    server.stop()


def dtlsClient(server: ServerProcess, name: str, *extra: str) -> ClientProcess:
    cert = server.argv[server.argv.index("--dtls") + 1].rpartition("certKey=")[2]
    return ClientProcess(
        "--udp", "--tls", "--cafile", cert, "localhost", str(server.ports["DTLS"]), name, *extra
    )


def frameWith(client, text: str, limit: int = 200) -> str:
    for _ in range(limit):
        frame = client.next()
        if text in frame:
            return frame
    raise AssertionError(f"no frame with {text!r}")


def test_dtls_users_chat_with_a_tcp_user(dtlsServer):
    tara = blockingLoggedIn(dtlsServer.ports["TCP"], "tara")
    ann = dtlsClient(dtlsServer, "ann")
    ben = dtlsClient(dtlsServer, "ben")
    try:
        for client in (ann, ben):
            client.type(PASSWORD)
            client.waitFor("Operation [PM/DM/EX]")
        assert frameWith(tara, "C JOIN ben") == "C JOIN ben UDP"
        ann.type("PM", "hello from inside DTLS")
        ann.waitFor("Sent to 2 users.")
        assert frameWith(tara, "D PM ann") == "D PM ann UDP hello from inside DTLS"
        ben.waitFor("ann[UDP] : hello from inside DTLS")
        tara.send("C PM", "D hello from TCP")
        ann.waitFor("tara[TCP] : hello from TCP")
        ben.waitFor("tara[TCP] : hello from TCP")
        ben.type("DM", "tara", "just for you")
        assert frameWith(tara, "D DM ben") == "D DM ben UDP just for you"
        for client in (ann, ben):
            client.type("EX")
            assert client.wait() == 0
            assert client.lines[-1] == "Bye."
        assert frameWith(tara, "C LEAVE ben") == "C LEAVE ben UDP EXIT"
    finally:
        for client in (ann, ben):
            client.stop()
        tara.close()
    assert PASSWORD not in dtlsServer.log()


class Relay:
    """
    A UDP relay on 127.0.0.1 between one client and the server, keeping a
    copy of every datagram it passes on, both ways.
    """

    def __init__(self, server: int) -> None:
        self.server = ("127.0.0.1", server)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.toServer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.toServer.bind(("127.0.0.1", 0))
        self.toServer.settimeout(0.2)
        self.client: tuple[str, int] | None = None
        self.seen: list[bytes] = []
        self.running = True
        self.threads = [
            threading.Thread(target=self._pass, args=(self.sock, True), daemon=True),
            threading.Thread(target=self._pass, args=(self.toServer, False), daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _pass(self, sock: socket.socket, fromClient: bool) -> None:
        while self.running:
            try:
                data, addr = sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.seen.append(data)
            if fromClient:
                self.client = addr
                self.toServer.sendto(data, self.server)
            elif self.client is not None:
                self.sock.sendto(data, self.client)

    def close(self) -> None:
        self.running = False
        for thread in self.threads:
            thread.join(timeout=5)
        self.sock.close()
        self.toServer.close()

    def crossed(self) -> bytes:
        return b"".join(self.seen)


SECRETS = [
    PASSWORD.encode(),
    SECRET_TEXT.encode(),
    b"relayuser",
    b"C LOGIN",
    b"C PASS",
    b"C HELLO",
    b"C WELCOME",
    b"C PM",
    b"C BYE",
    b"C OK PM",
]


def relayedChat(port: int, *options: str) -> Relay:
    relay = Relay(port)
    try:
        status, out = subprocessChat(relay.port, *options)
        assert status == 0, out
        assert "Sent to 0 users." in out, out
    finally:
        relay.close()
    return relay


def subprocessChat(port: int, *options: str) -> tuple[int, str]:
    return runChatclient(
        *options, "localhost", str(port), "relayuser", lines=f"{PASSWORD}\nPM\n{SECRET_TEXT}\nEX\n"
    )


def test_nothing_crosses_in_clear_over_dtls(dtlsServer):
    relay = relayedChat(
        dtlsServer.ports["DTLS"], "--udp", "--tls", "--cafile", str(dtlsServer.cert)
    )
    crossed = relay.crossed()
    assert len(relay.seen) >= 10  # the handshake and the chat went through it
    for datagram in relay.seen:
        assert datagram == b"" or splitRecords(datagram) is not None, datagram[:40]
    for secret in SECRETS:
        assert secret not in crossed, secret
    dtlsServer.waitForLog(f"relayuser[UDP] : {SECRET_TEXT}")

    # The same relay over plain UDP sees every one of them: it can tell.
    plain = relayedChat(dtlsServer.ports["UDP"], "--udp")
    for secret in SECRETS:
        assert secret in plain.crossed(), secret


def test_a_vanished_dtls_client_is_replaced_with_ghost(dtlsServer):
    old = dtlsClient(dtlsServer, "gus")
    try:
        old.type(PASSWORD)
        old.waitFor("Operation [PM/DM/EX]")
    finally:
        old.stop()  # killed: gone without C EX, its association and name linger
    _, out = pipedClient(dtlsServer.ports["TCP"], "gus", "gus\nEX\n")
    assert "That username is already taken" in out, out
    new = dtlsClient(dtlsServer, "gus")
    try:
        new.type("!ghost", PASSWORD)
        new.waitFor("Welcome gus, you are connected via UDP.")
        dtlsServer.waitForLog("gus[UDP] replaced by a new login from 127.0.0.1")
        new.type("EX")
        assert new.wait() == 0
    finally:
        new.stop()


def test_the_dtls_client_comes_back_after_a_restart(tmp_path):
    _, cert = selfSigned(tmp_path)
    server = twistdServer(tmp_path, "--dtls", dtlsOption(tmp_path))
    server.cert = cert
    ports = server.ports
    client = dtlsClient(server, "dora", "--reconnect")
    again = None
    try:
        client.type(PASSWORD)
        client.waitFor("Operation [PM/DM/EX]")
        server.stop()
        client.waitFor("The server is shutting down.")
        client.waitFor("Reconnecting in 1 s")
        again = twistdServer(
            tmp_path,
            f"--port={ports['TCP']}",
            f"--udp-port={ports['UDP']}",
            f"--web=tcp:{ports['WEB']}:interface=127.0.0.1",
            "--dtls",
            dtlsOption(tmp_path, ports["DTLS"]),
        )
        again.waitForLog("dora [UDP] has connected.")
        client.type("PM", "back inside DTLS")
        client.waitFor("Sent to 0 users.")
        client.type("EX")
        assert client.wait() == 0
    finally:
        client.stop()
        if again is not None:
            again.stop()


def test_dtls_takes_passwords_where_plain_udp_may_not(tmp_path):
    selfSigned(tmp_path)
    server = twistdServer(tmp_path, "--plaintext-logins=nowhere", "--dtls", dtlsOption(tmp_path))
    try:
        status, out = subprocessChat(server.ports["UDP"], "--udp")
        assert status != 0 and "try --tls" in out, out
        assert "Welcome" not in out
        client = dtlsClient(server, "relayuser")
        try:
            client.type(PASSWORD)
            client.waitFor("Welcome relayuser, you are connected via UDP.")
            client.type("EX")
            assert client.wait() == 0
        finally:
            client.stop()
    finally:
        server.stop()


def test_a_certificate_no_authority_signed_is_judged_as_over_tcp(dtlsServer):
    """
    Without --cafile, piped: the certificate must be known or match
    --fingerprint, as over TCP (the known-servers rules); refused, exit 3.
    """
    cert = dtlsServer.argv[dtlsServer.argv.index("--dtls") + 1].rpartition("certKey=")[2]
    expected = fingerprint.ofPEM(Path(cert).read_bytes())
    command = ["--udp", "--tls", "localhost", str(dtlsServer.ports["DTLS"]), "vera"]
    status, out = runChatclient(*command, lines=f"{PASSWORD}\nEX\n")
    assert status == 3, out
    assert expected in out and "not connected" in out and "Welcome" not in out
    status, out = runChatclient(*command, "--fingerprint", expected, lines=f"{PASSWORD}\nEX\n")
    assert status == 0, out
    assert "Welcome vera, you are connected via UDP." in out


def test_known_servers_over_dtls_asked_once_then_silent_then_a_change_refused(
    tmp_path, monkeypatch
):
    """
    At a terminal, a certificate no authority signed is shown and asked
    about once; a yes is remembered and the next connection is silent; a
    new certificate on the same port is refused (exit 3), never asked.
    """
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    known = tmp_path / "config" / "chatroom" / "known-servers"
    first = tmp_path / "first"
    first.mkdir()
    selfSigned(first)
    server = twistdServer(tmp_path, "--dtls", dtlsOption(first))
    port = server.ports["DTLS"]
    try:
        screen = Screen("--udp", "--tls", "localhost", str(port), "ida")
        try:
            screen.waitFor("is not signed by an authority this computer trusts")
            screen.waitForPrompt("Trust this certificate and remember it? [y/N]:")
            screen.type("y\r")
            screen.waitFor("Choose a password for ida:")
            screen.type(PASSWORD + "\r")
            screen.waitFor("Type the same password again:")
            screen.type(PASSWORD + "\r")
            screen.waitForPrompt("Operation [PM/DM/EX]:")
            screen.type("EX\r")
            screen.child.expect(pexpect.EOF, timeout=20)
        finally:
            screen.child.close(force=True)
        assert f"localhost {port} SHA256:" in known.read_text()
        status, out = subprocessChat(port, "--udp", "--tls")  # piped: known now, silent
        assert status == 0 and "certificate" not in out, out
    finally:
        server.stop()
    second = tmp_path / "second"
    second.mkdir()
    selfSigned(second)
    server = twistdServer(tmp_path, "--dtls", dtlsOption(second, port))
    try:
        status, out = subprocessChat(port, "--udp", "--tls")
        assert status == 3 and "HAS CHANGED" in out and "Welcome" not in out, out
    finally:
        server.stop()
