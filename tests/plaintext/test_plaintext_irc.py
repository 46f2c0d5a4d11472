"""
C{--plaintext-logins nowhere} on the IRC door (protocol 1.2, sections 13 and 14), on a real
C{twistd chatroom}: over plain IRC, C{PASS} gets C{464} and SASL C{PLAIN} gets C{904}, both
saying in words that passwords go only over an encrypted connection and to use TLS, the name
not held; over C{--irc ssl:...} both log in.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.certs import selfSigned
from helpers.ircwire import IRCClient, plain
from helpers.wire import ServerProcess, twistdServer

#: What every refusal says, after its numeric's own words.
EXPLANATION = (
    "this server takes passwords only over an encrypted connection (TLS, DTLS or wss):"
    " connect again with TLS"
)


@pytest.fixture(scope="module")
def plainIRC(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """
    A server that takes no password in clear, with a plain IRC listener.
    """
    server = twistdServer(
        tmp_path_factory.mktemp("plainirc"),
        "--plaintext-logins=nowhere",
        "--irc=tcp:0:interface=127.0.0.1",
        "--irc-server-name=irc.test",
        "--no-web",
    )
    yield server
    server.stop()


def _tlsClient(port: int, cert: Path) -> IRCClient:
    context = ssl.create_default_context(cafile=str(cert))
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    client = IRCClient.__new__(IRCClient)
    client.sock = context.wrap_socket(raw, server_hostname="localhost")
    client.file = client.sock.makefile("rb")
    client.seen = []
    return client


def test_pass_over_plain_irc_is_refused(plainIRC: ServerProcess) -> None:
    client = IRCClient(plainIRC.ports["IRC"])
    try:
        client.send("PASS in-clear", "NICK alice", "USER a 0 * :Alice")
        refusal = client.waitFor(" 464 ")
        assert refusal == f":irc.test 464 alice :Password not accepted: {EXPLANATION}", refusal
        assert client.waitFor("ERROR") == (
            "ERROR :Closing Link: 127.0.0.1 (passwords only over TLS)"
        )
        assert client.closed()
        assert not any(" 001 " in line for line in client.seen), client.seen
    finally:
        client.close()
    # The name was never held: the next try is refused for the same reason, not 433.
    again = IRCClient(plainIRC.ports["IRC"])
    try:
        again.send("NICK alice", "USER a 0 * :Alice")
        assert again.waitFor(" 464 ").endswith(EXPLANATION)
    finally:
        again.close()
    assert "alice [IRC] has connected" not in plainIRC.log()


def test_sasl_over_plain_irc_is_refused_and_the_connection_goes_on(
    plainIRC: ServerProcess,
) -> None:
    client = IRCClient(plainIRC.ports["IRC"])
    try:
        client.send("CAP LS 302", "NICK sam", "USER s 0 * :Sam", "CAP REQ :sasl")
        client.waitFor("ACK")
        client.send("AUTHENTICATE PLAIN")
        assert client.waitFor("AUTHENTICATE") == "AUTHENTICATE +"
        client.send(f"AUTHENTICATE {plain('sam', 'in-clear')}")
        refusal = client.waitFor(" 904 ")
        assert refusal == f":irc.test 904 sam :SASL authentication failed: {EXPLANATION}"
        # SASL failed, the connection did not: the client may still talk, and finish.
        client.send("PING :still")
        assert client.waitFor("PONG").endswith(" :still")
        client.send("CAP END")
        assert client.waitFor(" 464 ").endswith(EXPLANATION)
        client.waitFor("ERROR")
        assert client.closed()
        assert not any(" 001 " in line or " 903 " in line for line in client.seen), client.seen
    finally:
        client.close()


def test_pass_and_sasl_over_tls_irc_log_in(tmp_path: Path) -> None:
    key, cert = selfSigned(tmp_path)
    server = twistdServer(
        tmp_path,
        "--plaintext-logins=nowhere",
        f"--irc=ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}",
        "--irc-server-name=irc.test",
        "--no-web",
    )
    try:
        byPass = _tlsClient(server.ports["IRC"], cert)
        bySASL = _tlsClient(server.ports["IRC"], cert)
        try:
            byPass.send("PASS over-tls", "NICK tilda", "USER t 0 * :Tilda")
            assert byPass.waitFor(" 001 ").startswith(":irc.test 001 tilda ")
            bySASL.send("CAP LS 302", "NICK sasha", "USER s 0 * :Sasha", "CAP REQ :sasl")
            bySASL.waitFor("ACK")
            bySASL.send("AUTHENTICATE PLAIN")
            assert bySASL.waitFor("AUTHENTICATE") == "AUTHENTICATE +"
            bySASL.send(f"AUTHENTICATE {plain('sasha', 'over-tls')}")
            assert bySASL.waitFor(" 903 ").endswith(":SASL authentication successful")
            bySASL.send("CAP END")
            assert bySASL.waitFor(" 001 ").startswith(":irc.test 001 sasha ")
            for client in (byPass, bySASL):
                client.send("QUIT")
                client.waitFor("ERROR")
        finally:
            byPass.close()
            bySASL.close()
    finally:
        server.stop()
