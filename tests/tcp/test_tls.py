"""
--tcp takes any endpoint description, so TLS needs no code of our own.
"""

from __future__ import annotations

import socket
import ssl as ssl_
import time

import pytest_twisted
from helpers.certs import selfSigned
from helpers.wire import WAIT, connect
from twisted.internet import ssl, threads
from twisted.internet.endpoints import SSL4ClientEndpoint


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


class TLSLine:
    """
    A blocking TLS client (Python's own ssl module, in a thread) that tells
    a clean TLS shutdown from a connection that just stopped.
    """

    def __init__(self, port: int, cert) -> None:
        context = ssl_.create_default_context(cafile=str(cert))
        raw = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        # Without close_notify, the end of the stream is an error, not b"".
        self.sock = context.wrap_socket(
            raw, server_hostname="localhost", suppress_ragged_eofs=False
        )
        self.buffer = b""

    def send(self, *frames: str) -> None:
        self.sock.sendall(b"".join(f.encode() + b"\n" for f in frames))

    def next(self) -> str:
        while b"\n" not in self.buffer:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("closed")
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode().removesuffix("\r")

    def rest(self) -> tuple[list[str], str, float]:
        """
        Every frame until the server closes; how it closed (C{"close_notify"}
        or the error seen instead) and how long that took after the last frame.
        """
        frames: list[str] = []
        last = time.monotonic()
        try:
            while True:
                frames.append(self.next())
                last = time.monotonic()
        except EOFError:
            how = "close_notify"
        except (OSError, ssl_.SSLError) as e:
            how = repr(e)
        finally:
            self.sock.close()
        return frames, how, time.monotonic() - last

    def loggedIn(self, name: str) -> TLSLine:
        self.send(f"C LOGIN {name}", "C PASS over tls")
        assert self.next() == "C HELLO chatroom 1 TCP"
        assert self.next() == "C PASSWORD NEW"
        assert self.next().startswith(f"C WELCOME {name} TCP ")
        return self


async def tlsServer(startServer, tmp_path):
    key, cert = selfSigned(tmp_path)
    server = await startServer(
        "--tcp", f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    )
    return server, cert


@pytest_twisted.ensureDeferred
async def test_exit_over_tls_ends_with_close_notify(startServer, tmp_path):
    """
    The server shuts TLS down cleanly as soon as C{BYE} is written, rather
    than waiting for its close timer and cutting the connection.
    """
    server, cert = await tlsServer(startServer, tmp_path)

    def leave():
        client = TLSLine(server.port, cert).loggedIn("tess")
        client.send("C EX")
        return client.rest()

    frames, how, _ = await threads.deferToThread(leave)
    assert frames == ["C BYE EXIT"]
    assert how == "close_notify"


@pytest_twisted.ensureDeferred
async def test_shutdown_with_a_tls_client_ends_with_close_notify(startServer, tmp_path):
    server, cert = await tlsServer(startServer, tmp_path)
    client = await threads.deferToThread(lambda: TLSLine(server.port, cert).loggedIn("tess"))
    reading = threads.deferToThread(client.rest)
    await server.stop()
    frames, how, _ = await reading
    assert frames == ["C BYE SHUTDOWN"]
    assert how == "close_notify"


@pytest_twisted.ensureDeferred
async def test_public_messages_over_tls(startServer, tmp_path):
    """
    TLS connections are written through Twisted, not straight to the socket
    as plain TCP ones are: a fan-out still reaches them, in order.
    """
    from twisted.internet import reactor

    key, cert = selfSigned(tmp_path)
    server = await startServer(
        "--tcp", f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}", "--msg-rate=0"
    )
    trust = ssl.Certificate.loadPEM(cert.read_bytes())
    options = ssl.optionsForClientTLS("localhost", trustRoot=trust)
    people = []
    for name in ("una", "vic"):
        endpoint = SSL4ClientEndpoint(reactor, "127.0.0.1", server.port, options, timeout=5)
        client = await connect(server.port, endpoint)
        await client.expect("C HELLO chatroom 1 TCP")
        client.send(f"C LOGIN {name}", f"C PASS {name} secret")
        await client.expect(
            "C PASSWORD NEW", f"C WELCOME {name} TCP Welcome {name}, you are connected via TCP."
        )
        people.append(client)
    una, vic = people
    await una.expect("C JOIN vic TCP")
    for i in range(50):
        vic.send("C PM", f"D message {i}")
    await una.expect(*(f"D PM vic TCP message {i}" for i in range(50)))
    await vic.expect(*(["C ACK PM", "C OK PM 1"] * 50))
    una.send("C EX")
    await una.expect("C BYE EXIT")
    await una.waitClosed()
    await vic.expect("C LEAVE una TCP EXIT")
    vic.send("C EX")
    await vic.expect("C BYE EXIT")
    await vic.waitClosed()
