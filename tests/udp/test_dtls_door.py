"""
The DTLS door in a server built as twistd builds it (C{--dtls}), in the test's reactor,
its peers pyOpenSSL connections in memory behind real UDP sockets on 127.0.0.x: a flood of
ClientHellos from many addresses keeps no state and gets one small reply each; a peer
that vanishes mid-handshake is forgotten after the provisional lifetime; a forged hello
from a session's address does not end it, a real new handshake does (C{CLOSED}).
"""

from __future__ import annotations

import contextlib

import pytest_twisted
from helpers.certs import selfSigned
from helpers.udpwire import RawUDP
from helpers.waits import eventually
from OpenSSL import SSL

from chatroom.dtls.association import AssociationState
from chatroom.dtls.gate import drain
from chatroom.dtls.records import splitRecords


def client(cert) -> SSL.Connection:
    context = SSL.Context(SSL.DTLS_METHOD)
    context.load_verify_locations(str(cert))
    context.set_verify(SSL.VERIFY_PEER, lambda *args: bool(args[-1]))
    connection = SSL.Connection(context)
    connection.set_connect_state()
    return connection


def step(connection: SSL.Connection, incoming: bytes = b"") -> bytes:
    if incoming:
        connection.bio_write(incoming)
    with contextlib.suppress(SSL.WantReadError):
        connection.do_handshake()
    return drain(connection)


def peerAt(host: str, port: int) -> RawUDP:
    from twisted.internet import reactor

    raw = RawUDP(("127.0.0.1", port))
    reactor.listenUDP(0, raw, interface=host)  # type: ignore[attr-defined]
    return raw


async def dtlsServer(startServer, tmp_path, **udp):
    key, cert = selfSigned(tmp_path)
    server = await startServer("--dtls", f"0:privateKey={key}:certKey={cert}", udp=udp)
    listener = server.top.getServiceNamed("dtls")
    return listener.protocol, listener.port.getHost().port, cert


async def handshake(raw: RawUDP, peer: SSL.Connection) -> None:
    """
    A whole handshake, cookie exchange first, over the real socket.
    """
    out = step(peer)
    for _ in range(10):
        raw.send(out)
        try:
            peer.do_handshake()
        except SSL.WantReadError:
            pass
        else:
            return
        out = step(peer, await raw.next())
        if not out:
            with contextlib.suppress(SSL.WantReadError):
                peer.do_handshake()
                return
    raise AssertionError("the handshake did not complete")


def isVerifyRequest(datagram: bytes) -> bool:
    records = splitRecords(datagram)
    return records is not None and len(records) == 1 and records[0][13] == 3


@pytest_twisted.ensureDeferred
async def test_a_flood_of_hellos_from_many_addresses_keeps_no_state(startServer, tmp_path):
    door, port, cert = await dtlsServer(startServer, tmp_path)
    peers = []
    try:
        for last in range(2, 42):
            raw = peerAt(f"127.0.0.{last}", port)
            hello = step(client(cert))
            for _ in range(3):
                raw.send(hello)
            peers.append((raw, hello))
        for raw, hello in peers:
            for _ in range(3):
                reply = await raw.next()
                assert isVerifyRequest(reply) and len(reply) <= len(hello)
        assert door.associations == {} and door.pending == {} and door.unproven == {}
        assert await peers[0][0].nothingFor(1.5)  # never repeated
        assert all(not raw.pending() for raw, _ in peers)
    finally:
        for raw, _ in peers:
            await raw.close()


@pytest_twisted.ensureDeferred
async def test_a_peer_that_vanishes_mid_handshake_is_forgotten(startServer, tmp_path):
    door, port, cert = await dtlsServer(startServer, tmp_path, provisionalLifetime=1.0)
    raw = peerAt("127.0.0.1", port)
    try:
        peer = client(cert)
        raw.send(step(peer))
        raw.send(step(peer, await raw.next()))
        flight = await raw.next()
        assert splitRecords(flight) is not None
        assert door.handshaking == 1 and len(door.unproven) == 1
        # Silent from here: the door lets it go after the provisional lifetime.
        await eventually(lambda: not door.associations, "the handshake forgotten", timeout=5)
        assert door.unproven == {} and door.handshaking == 0
        raw.pending()
        assert await raw.nothingFor(2.5)  # and resends nothing more
    finally:
        await raw.close()


@pytest_twisted.ensureDeferred
async def test_only_a_completed_new_handshake_ends_a_session(startServer, tmp_path):
    door, port, cert = await dtlsServer(startServer, tmp_path)
    raw = peerAt("127.0.0.1", port)
    try:
        first = client(cert)
        await handshake(raw, first)
        (association,) = door.associations.values()
        assert association.state is AssociationState.OPEN
        # A hello without a cookie, as a forger would send: one small reply, nothing ends.
        hello = step(client(cert))
        raw.send(hello)
        assert isVerifyRequest(await raw.next())
        assert list(door.associations.values()) == [association] and door.pending == {}
        # A real new handshake from the same address replaces it once complete.
        second = client(cert)
        await handshake(raw, second)
        await eventually(lambda: association.state is AssociationState.CLOSED, "the old one closed")
        (replacement,) = door.associations.values()
        assert replacement is not association
        assert replacement.state is AssociationState.OPEN
    finally:
        await raw.close()
