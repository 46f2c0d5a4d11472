"""
The web listener over real sockets on 127.0.0.1: the WebSocket session
(PROTOCOL.md section 9) speaks sections 2-4 and 6 exactly as TCP does,
with its own limits, the Origin rule, and the page's HTTP side.
"""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
import pytest_twisted
from helpers import wswire
from helpers.certs import selfSigned
from helpers.wire import loggedIn as tcpLoggedIn
from helpers.wswire import connect, loggedIn
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.web.client import Agent, readBody
from twisted.web.http_headers import Headers
from zope.interface.verify import verifyObject

from chatroom.pipeline import IChannel
from chatroom.web.channel import WebSocketFactory

WELCOME = "C WELCOME alice WEB Welcome alice, you are connected via WEB."


@pytest_twisted.ensureDeferred
async def test_a_websocket_is_a_channel(server):
    """
    What the room is handed is an L{IChannel}, with the peer's address.
    """
    peer = IPv4Address("TCP", "192.0.2.1", 4242)
    protocol = WebSocketFactory(server.chat, Clock()).buildProtocol(peer)
    transport = StringTransport(peerAddress=peer)
    # twisted.web's channel registers itself before handing the connection over.
    transport.registerProducer(object(), True)
    protocol.makeConnection(transport)
    channel = protocol.channel
    assert channel is not None
    assert verifyObject(IChannel, channel)
    assert (channel.transportName, channel.peer, channel.host) == (
        "WEB",
        "192.0.2.1:4242",
        "192.0.2.1",
    )


@pytest_twisted.ensureDeferred
async def test_a_web_session_speaks_the_protocol_with_tcp_users(server):
    """
    Register, log in again, PM, DM both ways, WHO, PING, EX: the same frames
    as over TCP, tagged WEB.
    """
    alice = await connect(server.webPort)
    await alice.expect("C HELLO chatroom 1 WEB")
    alice.send("C LOGIN alice")
    await alice.expect("C PASSWORD NEW")
    alice.send("C PASS correct horse")
    await alice.expect(WELCOME)
    bob = await tcpLoggedIn(server.port, "bob")
    await alice.expect("C JOIN bob TCP")
    alice.send("C WHO")
    await alice.expect("C USERS alice:WEB bob:TCP")
    alice.send("C PM", "D hello from the web, ünïcode")
    await alice.expect("C ACK PM", "C OK PM 1")
    await bob.expect("D PM alice WEB hello from the web, ünïcode")
    alice.send("C DM", "D bob psst")
    await alice.expect("C USERS alice:WEB bob:TCP", "C OK DM bob")
    await bob.expect("D DM alice WEB psst")
    bob.send("C DM", "D ALICE back at you")
    await bob.expect("C USERS alice:WEB bob:TCP", "C OK DM alice")
    await alice.expect("D DM bob TCP back at you")
    bob.send("C PM", "D to everyone")
    await bob.expect("C ACK PM", "C OK PM 1")
    await alice.expect("D PM bob TCP to everyone")
    alice.send("C PING", "C PING word")
    await alice.expect("C PONG", "C PONG word")
    alice.send("C EX")
    await alice.expect("C BYE EXIT")
    await alice.waitClosed()
    await bob.expect("C LEAVE alice WEB EXIT")

    again = await connect(server.webPort)
    await again.expect("C HELLO chatroom 1 WEB")
    again.send("C LOGIN Alice", "C PASS correct horse")
    await again.expect("C PASSWORD EXISTING", WELCOME)
    await bob.expect("C JOIN alice WEB")
    again.close()
    await again.waitClosed()
    await bob.expect("C LEAVE alice WEB CLOSED")  # closing the WebSocket is CLOSED


@pytest_twisted.ensureDeferred
async def test_errors_as_over_tcp(server):
    """
    Every error of section 6 that a session can provoke alone.
    """
    client = await connect(server.webPort)
    await client.expect("C HELLO chatroom 1 WEB")
    for frame in ["C PM", "C DM", "C WHO", "D hello", "C PASS x"]:
        client.send(frame)
        assert (await client.next()).startswith("C ERR STATE "), frame
    client.send("C FROB", "C LOGIN -bad")
    assert (await client.next()).startswith("C ERR UNKNOWN ")
    assert (await client.next()).startswith("C ERR BAD_NAME ")
    bob = await tcpLoggedIn(server.port, "bob")
    client.send("C LOGIN BOB")
    assert (await client.next()).startswith("C ERR NAME_TAKEN ")
    client.send("C LOGIN alice", "C PASS pw")
    await client.expect("C PASSWORD NEW", WELCOME)
    await bob.expect("C JOIN alice WEB")
    client.send("C DM", "D nobody hi", "C PM", "D ", "C DM", "D bob")
    await client.expect("C USERS alice:WEB bob:TCP")
    assert (await client.next()).startswith("C ERR NO_SUCH_USER ")
    await client.expect("C ACK PM")
    assert (await client.next()).startswith("C ERR BAD_TEXT ")
    await client.expect("C USERS alice:WEB bob:TCP")
    assert (await client.next()).startswith("C ERR BAD_TEXT ")
    client.close()

    brute = await connect(server.webPort)
    await brute.expect("C HELLO chatroom 1 WEB")
    for attempt in range(3):
        brute.send("C LOGIN alice", f"C PASS guess{attempt}")
        await brute.expect("C PASSWORD EXISTING")
        assert (await brute.next()).startswith("C ERR BAD_PASSWORD ")
    await brute.waitClosed()


@pytest_twisted.ensureDeferred
async def test_binary_bad_utf8_controls_and_long_messages(server):
    """
    What autobahn would close the connection for is answered like TCP's
    bad lines, and the session goes on.
    """
    alice = await loggedIn(server.webPort, "alice")
    alice.send(b"C PING binary", binary=True)
    assert (await alice.next()).startswith("C ERR BAD_FRAME ")
    alice.send(b"C PING \xff\xfe", b"C PING \x1b[2J", b"D \xc2\x9b", "X hello", "C PING a\nb")
    for _ in range(5):
        assert (await alice.next()).startswith("C ERR BAD_FRAME ")
    alice.send("C PING tab\tbed")
    await alice.expect("C PONG tab\tbed")
    bob = await tcpLoggedIn(server.port, "bob")
    await alice.expect("C JOIN bob TCP")
    alice.send("C PM", "D " + "x" * 4094)  # exactly 4096 bytes: allowed
    await alice.expect("C ACK PM", "C OK PM 1")
    await bob.expect(f"D PM alice WEB {'x' * 4094}")
    # One byte more is too long and ends the pending operation.
    alice.send("C PM", "D " + "y" * 4095, "D after")
    await alice.expect("C ACK PM")
    assert (await alice.next()).startswith("C ERR TOO_LONG ")
    assert (await alice.next()).startswith("C ERR STATE ")
    # A message of a megabyte, in several WebSocket frames, is not kept.
    alice.sendMessage(b"D " + b"z" * 1_000_000, isBinary=False, fragmentSize=65536)
    assert (await alice.next()).startswith("C ERR TOO_LONG ")
    alice.send(b"C PING still")
    await alice.expect("C PONG still")
    assert bob.pending() == 0


@pytest_twisted.ensureDeferred
async def test_pipelined_messages_behind_a_password_check_come_in_order(startServer):
    """
    Hundreds of messages sent behind a slow password check: reading pauses
    while the inbox is long, and every one is answered, in order.
    """
    server = await startServer("--msg-rate", "0")
    client = await connect(server.webPort)
    await client.expect("C HELLO chatroom 1 WEB")
    client.send("C LOGIN alice", "C PASS pw", *[f"C PING {i}" for i in range(300)])
    await client.expect("C PASSWORD NEW", WELCOME)
    for i in range(300):
        assert await client.next() == f"C PONG {i}"


@pytest_twisted.ensureDeferred
async def test_rate_limit_applies_to_web_sessions(startServer):
    server = await startServer("--msg-rate", "1", "--msg-burst", "3")
    client = await connect(server.webPort)
    await client.expect("C HELLO chatroom 1 WEB")
    client.send(*[f"C PING {i}" for i in range(5)])
    replies = [await client.next() for _ in range(5)]
    assert replies[:2] == ["C PONG 0", "C PONG 1"]  # the HELLO took one token
    assert all(reply.startswith("C ERR RATE ") for reply in replies[3:])


@pytest_twisted.ensureDeferred
async def test_origin_rule(startServer):
    """
    Another site's page cannot open a session; the server's own page, a
    client without a page (no Origin) and an allowed origin can.
    """
    server = await startServer("--web-origin", "https://chat.example.org")
    with pytest.raises(ConnectionError, match="403"):
        await connect(server.webPort, origin="https://evil.example")
    with pytest.raises(ConnectionError, match="403"):
        await connect(server.webPort, origin=f"http://localhost.evil:{server.webPort}")
    with pytest.raises(ConnectionError, match="400"):
        await connect(server.webPort, protocols=["other.v1"])
    for origin in ["same", None, "https://chat.example.org", "HTTPS://Chat.Example.org"]:
        client = await connect(server.webPort, origin=origin)
        await client.expect("C HELLO chatroom 1 WEB")
        client.close()
        await client.waitClosed()


@pytest_twisted.ensureDeferred
async def test_a_browser_that_stops_reading_is_dropped(startServer):
    """
    A WebSocket reader that stops reading is dropped like a TCP one, and
    everyone else is served meanwhile.
    """
    server = await startServer("--msg-rate", "0")
    slow = await loggedIn(server.webPort, "slow")
    talker = await tcpLoggedIn(server.port, "talker")
    watcher = await loggedIn(server.webPort, "watcher")
    await slow.expect("C JOIN talker TCP", "C JOIN watcher WEB")
    await talker.expect("C JOIN watcher WEB")
    slow.transport.pauseProducing()
    text = "D " + "x" * 4000
    # Far more than the send queue (1 MiB) and the socket buffers hold.
    for _ in range(2000):
        talker.send("C PM", text)
    seen = []
    while "C LEAVE slow WEB DROPPED" not in seen:
        seen.append(await talker.next())
        assert len(seen) < 8000, "the slow reader was never dropped"
    seen = []
    while "C LEAVE slow WEB DROPPED" not in seen:
        seen.append(await watcher.next())
        assert len(seen) < 4000, "the others were not told"
    slow.transport.resumeProducing()
    await slow.waitClosed()


@pytest_twisted.ensureDeferred
async def test_https_and_wss(startServer, tmp_path):
    """
    --web takes a TLS endpoint: the page's own origin is then https.
    """
    from twisted.internet import ssl

    key, cert = selfSigned(tmp_path)
    server = await startServer(
        "--web", f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    )
    trust = ssl.Certificate.loadPEM(cert.read_bytes())
    tls = ssl.optionsForClientTLS("localhost", trustRoot=trust)
    alice = await connect(server.webPort, tls=tls)
    await alice.expect("C HELLO chatroom 1 WEB")
    alice.send("C LOGIN alice", "C PASS over wss", "C EX")
    await alice.expect("C PASSWORD NEW", WELCOME, "C BYE EXIT")
    await alice.waitClosed()
    with pytest.raises(ConnectionError, match="403"):
        await connect(server.webPort, origin=f"http://localhost:{server.webPort}", tls=tls)


async def _get(port: int, path: bytes, headers: dict[bytes, list[bytes]] | None = None):
    from twisted.internet import reactor

    agent = Agent(reactor)
    d = agent.request(b"GET", b"http://127.0.0.1:%d%s" % (port, path), Headers(headers or {}))
    d.addTimeout(wswire.WAIT, reactor)
    response = await d
    body = await readBody(response)
    return response, body


def _header(response, name: bytes) -> str:
    values = response.headers.getRawHeaders(name) or [b""]
    return values[0].decode() if isinstance(values[0], bytes) else values[0]


@pytest_twisted.ensureDeferred
async def test_the_page_is_served_with_security_and_caching_headers(server):
    for path, media in [
        (b"/", "text/html"),
        (b"/app.js", "text/javascript"),
        (b"/style.css", "text/css"),
        (b"/text.js", "text/javascript"),
        (b"/moderation.js", "text/javascript"),
        (b"/menu.js", "text/javascript"),
        (b"/conversation.js", "text/javascript"),
        (b"/people.js", "text/javascript"),
        (b"/commands.js", "text/javascript"),
        (b"/catchup.js", "text/javascript"),
        (b"/composer.js", "text/javascript"),
        (b"/login.js", "text/javascript"),
        (b"/favicon.ico", "image/x-icon"),
        (b"/favicon.svg", "image/svg+xml"),
    ]:
        response, body = await _get(server.webPort, path)
        assert response.code == 200, path
        assert _header(response, b"Content-Type").startswith(media)
        csp = _header(response, b"Content-Security-Policy")
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert _header(response, b"X-Frame-Options") == "DENY"
        assert _header(response, b"X-Content-Type-Options") == "nosniff"
        assert _header(response, b"Cache-Control") == "no-cache"
        etag = _header(response, b"ETag")
        assert etag
        again, empty = await _get(server.webPort, path, {b"If-None-Match": [etag.encode()]})
        assert again.code == 304 and empty == b""
    response, body = await _get(server.webPort, b"/")
    assert b'<label for="username">Username</label>' in body
    assert b"http" not in body.replace(b"http-equiv", b"")  # nothing fetched from elsewhere


@pytest_twisted.ensureDeferred
async def test_every_file_of_the_page_and_every_module_it_imports_is_served(server):
    """
    The allow-list holds every file of static/ (a new ES module is not
    forgotten), and every C{import ... from "./x.js"} names one of them.
    """
    static = files("chatroom.web") / "static"
    names = sorted(entry.name for entry in static.iterdir() if entry.is_file())
    for name in names:
        response, body = await _get(server.webPort, b"/" + name.encode())
        assert response.code == 200 or name == "index.html", name
        if name.endswith(".js"):
            for imported in re.findall(r'from "\./([^"]+)"', body.decode()):
                assert imported in names, (name, imported)


@pytest_twisted.ensureDeferred
async def test_anything_else_is_a_404(server):
    for path in [
        b"/%00",
        b"/nothing",
        b"/app.js/more",
        b"/static/app.js",
        b"/../setup.cfg",
        b"/%2e%2e/setup.cfg",
        b"/index.html",
        b"/ws/more",
        b"/__init__.py",
    ]:
        response, _ = await _get(server.webPort, path)
        assert response.code == 404, path
        assert _header(response, b"X-Content-Type-Options") == "nosniff"


@pytest_twisted.ensureDeferred
async def test_no_web_serves_no_page(startServer):
    server = await startServer("--no-web")
    assert server.web is None
    client = await tcpLoggedIn(server.port, "alice")
    client.close()


@pytest_twisted.ensureDeferred
async def test_many_web_sessions_at_once(server):
    clients = await gatherResults(
        [Deferred.fromCoroutine(loggedIn(server.webPort, f"user{i}")) for i in range(10)]
    )
    clients[0].send("C WHO")
    reply = await clients[0].next()
    while not reply.startswith("C USERS "):
        reply = await clients[0].next()
    assert reply.count(":WEB") == 10
    for client in clients:
        client.close()


def test_web_options():
    """
    The page follows --interface, takes any free port with --port 0, and
    --web-origin takes only origins.
    """
    from twisted.python.usage import UsageError

    from chatroom.options import Options

    def parsed(*args: str) -> Options:
        options = Options()
        options.parseOptions(list(args))
        return options

    assert parsed().webDescription() == "tcp:8080"
    assert parsed("-i", "::").webDescription() == "tcp:8080:interface=\\:\\:"
    assert parsed("--port", "0").webDescription() == "tcp:0"
    assert parsed("--web", "tcp:81").webDescription() == "tcp:81"
    assert parsed("--no-web", "--web", "tcp:81").webDescription() is None
    both = parsed("--web-origin", "https://a.example", "--web-origin", "http://b.example:8000")
    assert both["web-origin"] == ["https://a.example", "http://b.example:8000"]
    for bad in ["a.example", "javascript:alert(1)", "https://a b"]:
        with pytest.raises(UsageError, match="is not an origin"):
            parsed("--web-origin", bad)
