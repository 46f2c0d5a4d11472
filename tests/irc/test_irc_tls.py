"""
The IRC listener over TLS (C{--irc ssl:...}): registration and QUIT, where
C{--plaintext-logins nowhere} takes passwords only over encrypted
connections (plain IRC's refusal: tests/plaintext/test_plaintext_irc.py).
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from helpers.certs import selfSigned
from helpers.ircwire import IRCClient
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
