"""
--tcp takes any endpoint description, so TLS needs no code of our own.
"""

from __future__ import annotations

import pytest_twisted
from certs import selfSigned
from twisted.internet import ssl
from twisted.internet.endpoints import SSL4ClientEndpoint
from wire import connect


@pytest_twisted.ensureDeferred
async def test_chat_over_tls(startServer, tmp_path):
    from twisted.internet import reactor

    key, cert = selfSigned(tmp_path)
    server = await startServer(
        "--tcp", f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    )
    trust = ssl.Certificate.loadPEM(cert.read_bytes())
    options = ssl.optionsForClientTLS("localhost", trustRoot=trust)
    endpoint = SSL4ClientEndpoint(reactor, "127.0.0.1", server.port, options, timeout=5)
    client = await connect(server.port, endpoint)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send("C LOGIN tess", "C PASS over tls", "C PING secure")
    await client.expect(
        "C PASSWORD NEW",
        "C WELCOME tess TCP Welcome tess, you are connected via TCP.",
        "C PONG secure",
    )
    client.send("C EX")
    await client.expect("C BYE EXIT")
    await client.waitClosed()
