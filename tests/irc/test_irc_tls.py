"""
The IRC listener over TLS (C{--irc ssl:...}): registration and QUIT; and
C{--plaintext-logins nowhere} (section 13): a password over plain IRC gets
464 (PASS) or 904 (SASL) with the reason, over TLS it is taken.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from helpers.certs import selfSigned
from helpers.ircwire import IRCClient, plain
from helpers.wire import twistdServer


def test_irc_over_tls(tmp_path: Path) -> None:
    key, cert = selfSigned(tmp_path)
    tls = f"--irc=ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    server = twistdServer(tmp_path, tls, "--no-web", "--plaintext-logins=nowhere")
    try:
        context = ssl.create_default_context(cafile=str(cert))
        raw = socket.create_connection(("127.0.0.1", server.ports["IRC"]), timeout=10)
        client = IRCClient.__new__(IRCClient)
        client.sock = context.wrap_socket(raw, server_hostname="localhost")
        client.file = client.sock.makefile("rb")
        client.seen = []
        client.send("PASS over-tls", "NICK tilda", "USER t 0 * :T")
        assert client.waitFor(" 001 ").startswith(":")
        client.send("QUIT")
        client.waitFor("ERROR")
        client.close()
        plainTCP = IRCClient(server.ports["TCP"])  # the plain TCP door, for contrast
        assert plainTCP.next() == "C HELLO chatroom 1 TCP"
        plainTCP.close()
    finally:
        server.stop()


def test_plain_irc_refuses_clear_passwords(tmp_path: Path) -> None:
    server = twistdServer(
        tmp_path, "--irc=tcp:0:interface=127.0.0.1", "--no-web", "--plaintext-logins=nowhere"
    )
    try:
        client = IRCClient(server.ports["IRC"])
        client.send("PASS in-clear", "NICK clara", "USER c 0 * :C")
        line = client.waitFor(" 464 ")
        assert "encrypted" in line and "incorrect" not in line, line
        assert client.waitFor("ERROR").startswith("ERROR :")
        client.close()
        sasl = IRCClient(server.ports["IRC"])
        sasl.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
        sasl.waitFor("AUTHENTICATE +")
        sasl.send(f"AUTHENTICATE {plain('clara', 'in-clear')}")
        assert "encrypted" in sasl.waitFor(" 904 ")
        sasl.close()
    finally:
        server.stop()
