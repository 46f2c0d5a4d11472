"""
C{--plaintext-logins} on a real C{twistd chatroom} process, on every door:
plain TCP, plain UDP and a plain WebSocket get C{C ERR INSECURE} (the name
not held, the session going on), while TLS and wss log in; C{loopback}
takes a password in clear from 127.0.0.1; a server without accounts
ignores the option; and C{chatclient} explains the refusal, in English and
in Turkish.

(127.0.0.1 is loopback, so the difference between C{loopback} and
C{nowhere} for another machine is tested on the rule itself, in
test_plaintext_rule.)
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_twisted
from helpers import wswire
from helpers.certs import selfSigned
from helpers.wire import (
    BlockingClient,
    BlockingUDP,
    ServerProcess,
    runChatclient,
    twistdServer,
)

INSECURE = (
    "C ERR INSECURE this server takes passwords only over an encrypted connection"
    " (TLS, DTLS or wss)"
)
EXPLAINED = "This server takes passwords only over an encrypted connection: try --tls."


@pytest.fixture
def nowhere(tmp_path: Path) -> Iterator[ServerProcess]:
    """
    A server that takes no password in clear, with a TLS door on --tcp and
    https/wss on --web (and plain UDP beside them).
    """
    key, cert = selfSigned(tmp_path)
    server = twistdServer(
        tmp_path,
        "--plaintext-logins=nowhere",
        "--tcp",
        f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}",
    )
    yield server
    server.stop()


@pytest.fixture
def plainNowhere(tmp_path: Path) -> Iterator[ServerProcess]:
    server = twistdServer(tmp_path, "--plaintext-logins=nowhere")
    yield server
    server.stop()


def _insecureThenAlive(client: BlockingClient | BlockingUDP) -> None:
    client.send("C LOGIN alice GHOST")
    client.expect(INSECURE)
    client.send("C LOGIN alice")
    client.expect(INSECURE)
    client.send("C PING still")  # the session goes on
    client.expect("C PONG still")


def test_plain_tcp_is_refused(plainNowhere: ServerProcess) -> None:
    client = BlockingClient(plainNowhere.ports["TCP"])
    try:
        client.expect("C HELLO chatroom 1 TCP")
        _insecureThenAlive(client)
        client.send("C EX")
        client.expect("C BYE EXIT")
    finally:
        client.close()
    # The name was never held: another session may take it (as soon as it may log in).
    assert "alice[TCP]" not in plainNowhere.log()


def test_plain_udp_is_refused(plainNowhere: ServerProcess) -> None:
    client = BlockingUDP(plainNowhere.ports["UDP"])
    try:
        # The first datagram is C LOGIN (section 5): it gets HELLO, then INSECURE.
        client.send("C LOGIN alice")
        client.expect("C HELLO chatroom 1 UDP", INSECURE)
        client.send("C PING still")
        client.expect("C PONG still")
        client.send("C EX")
        client.expect("C BYE EXIT")
    finally:
        client.close()


@pytest_twisted.ensureDeferred
async def test_plain_websocket_is_refused(plainNowhere: ServerProcess) -> None:
    client = await wswire.connect(plainNowhere.ports["WEB"])
    await client.expect("C HELLO chatroom 1 WEB")
    client.send("C LOGIN alice")
    await client.expect(INSECURE)
    client.send("C PING still", "C EX")
    await client.expect("C PONG still", "C BYE EXIT")
    await client.waitClosed()


def test_tls_logs_in(nowhere: ServerProcess) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", nowhere.ports["TCP"]), timeout=10)
    with context.wrap_socket(raw, server_hostname="localhost") as sock:
        lines = sock.makefile("rb")
        sock.sendall(b"C LOGIN alice\nC PASS over tls\nC EX\n")
        got = [lines.readline().decode().rstrip("\r\n") for _ in range(4)]
    assert got[:2] == ["C HELLO chatroom 1 TCP", "C PASSWORD NEW"], got
    assert got[2].startswith("C WELCOME alice TCP"), got
    assert got[3] == "C BYE EXIT"


@pytest_twisted.ensureDeferred
async def test_wss_logs_in(tmp_path: Path) -> None:
    from twisted.internet import ssl as tssl

    key, cert = selfSigned(tmp_path)
    server = twistdServer(
        tmp_path,
        "--plaintext-logins=nowhere",
        "--web",
        f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}",
    )
    try:
        trust = tssl.Certificate.loadPEM(cert.read_bytes())
        client = await wswire.connect(
            server.ports["WEB"], tls=tssl.optionsForClientTLS("localhost", trustRoot=trust)
        )
        await client.expect("C HELLO chatroom 1 WEB")
        client.send("C LOGIN alice", "C PASS over wss", "C EX")
        await client.expect("C PASSWORD NEW")
        assert (await client.next()).startswith("C WELCOME alice WEB")
        await client.expect("C BYE EXIT")
        await client.waitClosed()
    finally:
        server.stop()


def test_loopback_takes_passwords_from_this_machine(tmp_path: Path) -> None:
    server = twistdServer(tmp_path, "--plaintext-logins=loopback")
    try:
        tcp = BlockingClient(server.ports["TCP"])
        udp = BlockingUDP(server.ports["UDP"])
        try:
            tcp.expect("C HELLO chatroom 1 TCP")
            tcp.send("C LOGIN alice", "C PASS pw")
            tcp.expect("C PASSWORD NEW")
            assert tcp.next().startswith("C WELCOME alice TCP")
            udp.send("C LOGIN bob", "C PASS pw")
            udp.expect("C HELLO chatroom 1 UDP", "C PASSWORD NEW")
            assert udp.next().startswith("C WELCOME bob UDP")
        finally:
            tcp.close()
            udp.close()
    finally:
        server.stop()


def test_without_accounts_the_option_is_ignored(tmp_path: Path) -> None:
    server = twistdServer(tmp_path, "--plaintext-logins=nowhere", "--no-accounts")
    try:
        client = BlockingClient(server.ports["TCP"])
        try:
            client.expect("C HELLO chatroom 1 TCP")
            client.send("C LOGIN alice")
            assert client.next().startswith("C WELCOME alice TCP")
        finally:
            client.close()
    finally:
        server.stop()


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_chatclient_explains(plainNowhere: ServerProcess, udp: bool) -> None:
    port = plainNowhere.ports["UDP" if udp else "TCP"]
    extra = ["--udp"] if udp else []
    status, out = runChatclient("127.0.0.1", str(port), "alice", *extra, lines="pw\nEX\n")
    assert status == 1, out
    assert EXPLAINED in out and "Traceback" not in out and "Password" not in out, out
    status, out = runChatclient(
        "--lang", "tr", "127.0.0.1", str(port), "alice", *extra, lines="pw\nEX\n"
    )
    assert status == 1, out
    assert "yalnızca şifreli bir bağlantı" in out and "--tls" in out, out


def test_chatclient_over_tls_logs_in(nowhere: ServerProcess) -> None:
    status, out = runChatclient(
        "--tls",
        "--insecure",
        "127.0.0.1",
        str(nowhere.ports["TCP"]),
        "tess",
        lines="pw\nPM\nhi\nEX\n",
    )
    assert status == 0, out
    assert "Welcome tess, you are connected via TCP." in out
