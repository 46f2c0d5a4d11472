"""
C{twistd chatroom --dtls} against the standard DTLS client, C{openssl s_client -dtls1_2}:
a verified handshake, then a UDP session of section 5 inside it (C{C LOGIN}, C{C HELLO}
and its acknowledgement, C{C PASSWORD}); and what the door does not answer.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import socket
import subprocess
import threading
import time

import pytest
from helpers.certs import selfSigned
from helpers.system import need
from helpers.wire import twistdServer
from OpenSSL import SSL

from chatroom.dtls.records import splitRecords

WAIT = 10.0


@pytest.fixture
def dtlsServer(tmp_path):
    key, cert = selfSigned(tmp_path)
    server = twistdServer(tmp_path, "--dtls", f"0:privateKey={key}:certKey={cert}")
    server.cert = cert
    yield server
    server.stop()


class SClient:
    """
    C{openssl s_client -dtls1_2}, piped: what we write goes as one record,
    what it prints is read in a thread.
    """

    def __init__(self, port: int, *options: str) -> None:
        need(shutil.which("openssl") is not None, "openssl", "apt-get install openssl")
        self.process = subprocess.Popen(
            ["openssl", "s_client", "-dtls1_2", "-connect", f"127.0.0.1:{port}", *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.output = b""
        self._chunks: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := os.read(self.process.stdout.fileno(), 65536):
            self._chunks.put(chunk)
        self._chunks.put(b"")

    def waitFor(self, text: bytes) -> None:
        deadline = time.monotonic() + WAIT
        while text not in self.output:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never came; s_client said:\n{self.output.decode()}"
            try:
                chunk = self._chunks.get(timeout=left)
            except queue.Empty:
                continue
            assert chunk, f"s_client ended before {text!r}:\n{self.output.decode()}"
            self.output += chunk

    def send(self, datagram: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(datagram)
        self.process.stdin.flush()
        time.sleep(0.05)  # s_client reads its input in chunks: one datagram per read

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=WAIT)


def test_verified_handshake_then_a_udp_session_inside(dtlsServer):
    client = SClient(
        dtlsServer.ports["DTLS"],
        "-CAfile",
        str(dtlsServer.cert),
        "-verify_return_error",
        "-verify_hostname",
        "localhost",
    )
    try:
        client.waitFor(b"Verify return code: 0 (ok)")
        assert b"DTLSv1.2" in client.output
        client.send(b"1000 C LOGIN alice")
        client.waitFor(b" C HELLO chatroom 1 UDP")
        head = client.output.split(b" C HELLO chatroom 1 UDP")[0].split()[-1]
        serverSeq = int(head)
        client.send(b"A %d" % serverSeq)
        client.waitFor(b"A 1000")  # acknowledged only once the HELLO was
        client.waitFor(b"%d C PASSWORD NEW" % (serverSeq + 1))
    finally:
        client.stop()


def test_an_untrusted_certificate_fails_the_handshake(dtlsServer, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    _, otherCert = selfSigned(other)
    client = SClient(dtlsServer.ports["DTLS"], "-CAfile", str(otherCert), "-verify_return_error")
    try:
        status = client.process.wait(timeout=WAIT)
        client.waitFor(b"verify error")
        assert status != 0
    finally:
        client.stop()


def test_not_dtls_gets_no_answer_and_a_bare_hello_one_small_reply(dtlsServer):
    port = dtlsServer.ports["DTLS"]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(1.0)
    try:
        for junk in (b"1000 C LOGIN mallory", b"A 5", b"\x16\xfe\xfd" + b"\x00" * 5, b"x" * 300):
            sock.sendto(junk, ("127.0.0.1", port))
            with pytest.raises(TimeoutError):
                sock.recvfrom(65535)
        # A real ClientHello (s_client's first datagram, replayed from this
        # socket) gets one HelloVerifyRequest, smaller, never repeated.
        hello = firstClientHello()
        sock.sendto(hello, ("127.0.0.1", port))
        reply, _ = sock.recvfrom(65535)
        records = splitRecords(reply)
        assert records is not None and records[0][13] == 3  # hello_verify_request
        assert len(reply) <= len(hello)
        sock.settimeout(2.5)
        with pytest.raises(TimeoutError):
            sock.recvfrom(65535)
    finally:
        sock.close()


def firstClientHello() -> bytes:
    """
    The first datagram C{s_client} sends, caught by a socket standing in for the server.
    """
    catcher = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    catcher.bind(("127.0.0.1", 0))
    catcher.settimeout(WAIT)
    client = SClient(catcher.getsockname()[1])
    try:
        hello, _ = catcher.recvfrom(65535)
    finally:
        client.stop()
        catcher.close()
    return hello


def test_a_hello_flood_from_many_addresses_then_a_real_handshake(dtlsServer):
    """
    ClientHellos from 50 source addresses on 127.0.0.x, each sent three
    times: each gets one HelloVerifyRequest no larger than itself, nothing
    is repeated, and a real client still completes its handshake at once.
    """
    port = dtlsServer.ports["DTLS"]
    context = SSL.Context(SSL.DTLS_METHOD)
    socks = []
    try:
        for last in range(2, 52):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((f"127.0.0.{last}", 0))
            sock.settimeout(WAIT)
            socks.append(sock)
            connection = SSL.Connection(context)
            connection.set_connect_state()
            with contextlib.suppress(SSL.WantReadError):
                connection.do_handshake()
            hello = connection.bio_read(65536)
            for _ in range(3):
                sock.sendto(hello, ("127.0.0.1", port))
            for _ in range(3):
                reply, _ = sock.recvfrom(65535)
                records = splitRecords(reply)
                assert records is not None and records[0][13] == 3 and len(reply) <= len(hello)
        for sock in socks:
            sock.settimeout(0.05)
        time.sleep(2.0)  # the handshake timer's first resend would have come by now
        for sock in socks:
            with pytest.raises(TimeoutError):
                sock.recvfrom(65535)
    finally:
        for sock in socks:
            sock.close()
    client = SClient(port, "-CAfile", str(dtlsServer.cert), "-verify_return_error")
    try:
        client.waitFor(b"Verify return code: 0 (ok)")
    finally:
        client.stop()
