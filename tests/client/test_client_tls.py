"""
C{chatclient --tls} against a real C{twistd -n chatroom --tcp ssl:...}
process: a certificate trusted through --cafile, --insecure (with its
warning), an untrusted certificate refused plainly, and bad combinations.
"""

from __future__ import annotations

import pytest
from helpers.certs import selfSigned
from helpers.wire import runChatclient, twistdServer


@pytest.fixture
def tlsServer(tmp_path):
    key, cert = selfSigned(tmp_path)
    server = twistdServer(
        tmp_path, "--tcp", f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    )
    server.cert = cert
    yield server
    server.stop()


def test_chat_over_tls_with_cafile(tlsServer):
    port = str(tlsServer.ports["TCP"])
    status, out = runChatclient(
        "--tls",
        "--cafile",
        str(tlsServer.cert),
        "localhost",
        port,
        "tess",
        lines="pw\nPM\nhi\nEX\n",
    )
    assert status == 0, out
    assert "Welcome tess, you are connected via TCP." in out and "Sent to 0 users." in out
    tlsServer.waitForLog("tess[TCP] : hi")


def test_insecure_warns_and_connects(tlsServer):
    status, out = runChatclient(
        "--tls", "--insecure", "127.0.0.1", str(tlsServer.ports["TCP"]), "ivy", lines="pw\nEX\n"
    )
    assert status == 0, out
    assert out.startswith("Warning: --insecure: the server's certificate is not checked")
    assert "Welcome ivy" in out


@pytest.mark.parametrize(
    "how",
    [
        ("localhost",),  # neither the system's store nor the known servers know it
        ("127.0.0.1", "--cafile"),  # trusted, but issued for another name
    ],
    ids=["untrusted", "wrong-name"],
)
def test_a_certificate_that_does_not_verify_is_refused_plainly(tlsServer, how):
    host, *cafile = how
    extra = ["--cafile", str(tlsServer.cert)] if cafile else []
    status, out = runChatclient(
        "--tls", *extra, host, str(tlsServer.ports["TCP"]), "mal", lines="pw\nEX\n"
    )
    assert status == 3, out
    if cafile:
        assert "The server's certificate was issued for another name" in out
    else:  # piped, a certificate nobody vouches for is judged by its fingerprint
        assert "is not signed by an authority this computer trusts" in out
        assert "--fingerprint SHA256:" in out
    assert "Traceback" not in out and "Welcome" not in out


def test_tls_to_a_plain_server_is_refused_plainly(tmp_path):
    server = twistdServer(tmp_path)
    try:
        status, out = runChatclient(
            "--tls", "--insecure", "127.0.0.1", str(server.ports["TCP"]), "pat", lines="pw\nEX\n"
        )
    finally:
        server.stop()
    assert status == 3, out
    assert "TLS with 127.0.0.1 port" in out and "Traceback" not in out
    assert "Is that a TLS port? Leave out --tls" in out


@pytest.mark.parametrize(
    "args, said",
    [
        (["--tls", "--udp", "--cafile", "/nonexistent/ca.pem"], "cannot read /nonexistent/ca.pem"),
        (["--insecure"], "--cafile and --insecure go with --tls"),
        (["--tls", "--cafile", "/nonexistent/ca.pem"], "cannot read /nonexistent/ca.pem"),
        (["--tls", "--cafile", __file__], "holds no PEM certificate"),
        (["--reconnect", "--no-reconnect"], "not allowed with argument"),
    ],
)
def test_bad_combinations_are_refused(args, said):
    status, out = runChatclient(*args, "127.0.0.1", "9", "x")
    assert status == 2 and said in out, out
    assert "Traceback" not in out
