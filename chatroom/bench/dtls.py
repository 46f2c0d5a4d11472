"""
The C{dtls} scenario: UDP inside DTLS (C{--dtls}) beside plain UDP, on one server.

A fan-out to UDP receivers, once plain and once inside DTLS associations, and a login
storm of UDP registrations (real argon2id), once plain and once inside DTLS, each
handshake included. The DTLS receivers are the plain ones (L{UDPReceiver},
L{UDPRegistrant}) sealed into an association: the same L{Association} the server uses,
on the client's side, so only DTLS differs between the two runs.
"""

from __future__ import annotations

import datetime
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from OpenSSL import SSL
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.protocol import DatagramProtocol

from chatroom.bench.clients import Latencies, UDPReceiver
from chatroom.bench.scenarios import (
    PROBES,
    Result,
    burst,
    inBatches,
    sleep,
)
from chatroom.bench.server import BenchServer
from chatroom.dtls.association import OPEN, Association
from chatroom.dtls.context import DTLS1_2_VERSION
from chatroom.dtls.records import MTU

Address = tuple[str, int]


def makeCertificate(directory: Path) -> tuple[Path, Path]:
    """
    A throwaway key and self-signed certificate for the benchmark's server.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    keyPath, certPath = directory / "key.pem", directory / "cert.pem"
    keyPath.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    keyPath.chmod(0o600)
    certPath.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return keyPath, certPath


def clientContext() -> SSL.Context:
    """
    The receivers' context: the certificate is not checked (the benchmark
    measures the cost of DTLS, not of trust decisions).
    """
    context = SSL.Context(SSL.DTLS_METHOD)
    context.set_min_proto_version(DTLS1_2_VERSION)
    context.set_options(SSL.OP_NO_QUERY_MTU)
    context.set_verify(SSL.VERIFY_NONE)
    return context


class _SealedPort:
    """
    The inner receiver's transport: writes go into the association; the
    socket (for its buffer sizes) is the real one.
    """

    def __init__(self, outer: Sealed) -> None:
        self._outer = outer

    def write(self, datagram: bytes, addr: Any = None) -> None:
        self._outer.sendPlain(datagram)

    def getHandle(self) -> Any:
        return self._outer.transport.getHandle()  # type: ignore[union-attr]


class Sealed(DatagramProtocol):
    """
    A plain UDP client protocol (C{inner}) inside one DTLS association with
    the server; C{welcomed} and C{deliveries} are the inner one's.
    """

    def __init__(self, inner: Any, server: Address, context: SSL.Context, clock: Any) -> None:
        self.inner = inner
        self.server = server
        connection = SSL.Connection(context)
        connection.set_connect_state()
        connection.set_ciphertext_mtu(MTU)
        self.association = Association(connection, server, self, clock)
        self._early: list[bytes] = []
        self.welcomed = inner.welcomed

    @property
    def deliveries(self) -> int:
        return int(self.inner.deliveries)

    @deliveries.setter
    def deliveries(self, value: int) -> None:
        self.inner.deliveries = value

    def startProtocol(self) -> None:
        self.inner.makeConnection(_SealedPort(self))
        self.association.verified()

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        self.association.feed(data)

    def sendPlain(self, datagram: bytes) -> None:
        if self.association.state is OPEN:
            self.association.send(datagram)
        else:
            self._early.append(datagram)

    # AssociationHost

    def sendDatagram(self, datagram: bytes, addr: Address) -> None:
        if self.transport is not None:
            self.transport.write(datagram, self.server)

    def opened(self, association: Association) -> None:
        early, self._early = self._early, []
        for datagram in early:
            association.send(datagram)

    def plaintext(self, association: Association, datagram: bytes) -> None:
        self.inner.datagramReceived(datagram, self.server)

    def ended(self, association: Association, why: str) -> None:
        pass  # the benchmark waits for its figures; a broken association shows as a timeout


class UDPRegistrant(DatagramProtocol):
    """
    Registers a new account over UDP (section 5: LOGIN, the HELLO acknowledged,
    PASS) and notes when it was welcomed. Frames are acknowledged; the few it
    sends are resent until the welcome, so a lost datagram only slows it.
    """

    def __init__(self, name: str, server: Address) -> None:
        self.name = name
        self.server = server
        self.welcomed: Deferred[float] = Deferred()
        self.deliveries = 0
        self._seq = random.randrange(2**31)
        self._out = [b"%d C LOGIN %s" % (self._seq, name.encode())]

    def startProtocol(self) -> None:
        self.retry()

    def retry(self) -> None:
        if not self.welcomed.called and self.transport is not None:
            for datagram in self._out:
                self.transport.write(datagram, self.server)

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        head, _, frame = data.partition(b" ")
        if head == b"A" or self.transport is None:
            return
        self.transport.write(b"A " + head, self.server)
        if frame.startswith(b"C PASSWORD ") and len(self._out) == 1:
            self._out.append(b"%d C PASS secret-%s" % (self._seq + 1, self.name.encode()))
            self.transport.write(self._out[1], self.server)
        elif frame.startswith(b"C WELCOME ") and not self.welcomed.called:
            self.welcomed.callback(time.monotonic())


def _listen(reactor: Any, protocol: DatagramProtocol) -> None:
    reactor.listenUDP(0, protocol, interface="127.0.0.1", maxPacketSize=65535)


async def dtlsFanOut(reactor: Any, receivers: int, messages: int) -> list[Result]:
    """
    One TCP sender, C{messages} public messages to C{receivers} UDP receivers:
    plain, then inside DTLS, each on a fresh server.
    """
    return [await _fanOut(reactor, receivers, messages, transport) for transport in ("UDP", "DTLS")]


async def _fanOut(reactor: Any, receivers: int, messages: int, transport: str) -> Result:
    with tempfile.TemporaryDirectory(prefix="chatroom-bench-dtls-") as directory:
        key, cert = makeCertificate(Path(directory))
        server = await BenchServer.start(reactor, f"--dtls=0:privateKey={key}:certKey={cert}")
        people: list[Any] = []
        try:
            latencies = Latencies()
            addr = ("127.0.0.1", server.ports[transport])
            context = clientContext()
            for i in range(receivers):
                inner = UDPReceiver(f"u{i}", addr, latencies if i < PROBES else None)
                sealed = inner if transport == "UDP" else Sealed(inner, addr, context, reactor)
                people.append(sealed)

            async def start(person: Any) -> None:
                _listen(reactor, person)

            await inBatches(reactor, people, start)
            result = Result(f"fan-out {receivers} {transport}, 1 sender")
            result.figures = await burst(reactor, server, people, latencies, 1, messages, 64)
            return result
        finally:
            for person in people:
                if person.transport is not None:
                    person.transport.stopListening()
            await server.stop()


async def dtlsLoginStorm(reactor: Any, registrations: int) -> list[Result]:
    """
    C{registrations} new accounts at once over UDP (real argon2id): plain,
    then inside DTLS (each with its handshake), each on a fresh server.
    """
    return [await _storm(reactor, registrations, transport) for transport in ("UDP", "DTLS")]


async def _storm(reactor: Any, registrations: int, transport: str) -> Result:
    with tempfile.TemporaryDirectory(prefix="chatroom-bench-dtls-") as directory:
        key, cert = makeCertificate(Path(directory))
        server = await BenchServer.start(
            reactor, f"--dtls=0:privateKey={key}:certKey={cert}", accounts=True
        )
        people: list[Any] = []
        try:
            addr = ("127.0.0.1", server.ports[transport])
            context = clientContext()
            storm = [UDPRegistrant(f"storm{i}", addr) for i in range(registrations)]
            people = [p if transport == "UDP" else Sealed(p, addr, context, reactor) for p in storm]
            cpu = server.cpuSeconds()
            started = time.monotonic()
            for person in people:
                _listen(reactor, person)
            welcomed = gatherResults([p.welcomed for p in storm])
            deadline = time.monotonic() + 300
            while not welcomed.called:
                if time.monotonic() > deadline:
                    raise TimeoutError("registrations were not welcomed within 300 s")
                await sleep(reactor, 0.5)
                for registrant in storm:
                    registrant.retry()
            times = await welcomed
            result = Result(f"login storm, {registrations} UDP registrations, {transport}")
            result.figures = {
                "all welcomed s": max(times) - started,
                "server CPU s": server.cpuSeconds() - cpu,
            }
            return result
        finally:
            for person in people:
                if person.transport is not None:
                    person.transport.stopListening()
            await server.stop()
