"""
A locked or unreadable account database, over real sockets.

Another program holding the database's write lock (a backup, an
administrator in the sqlite3 shell) must not stall the room: logins only
read, and WAL lets readers in while someone else writes. Writes that
cannot get the lock in time are answered C{C ERR UNAVAILABLE}, the session
goes on, and everything works again once the lock is gone.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from helpers.locker import Locker
from helpers.waits import pause
from helpers.wire import connect, loggedIn
from twisted.internet import error

from chatroom.options import Options
from chatroom.startup import StartupError
from chatroom.tap import buildService
from chatroom.udp import UDPTimings


async def _registering(port: int, count: int) -> list:
    """
    C{count} clients that sent a new name and its password.
    """
    clients = []
    for n in range(count):
        client = await connect(port)
        await client.expect("C HELLO chatroom 1 TCP")
        client.send(f"C LOGIN new{n}")
        # Asking whether a name is taken only reads: the lock does not matter.
        await client.expect("C PASSWORD NEW")
        client.send("C PASS pw")
        clients.append(client)
    # Let their passwords hash, so their writes are queued before the login.
    await pause(0.5)
    return clients


@pytest_twisted.ensureDeferred
async def test_logins_do_not_wait_behind_locked_writes(startServer, tmp_path):
    """
    Registrations wait for the lock (a long busy timeout here); an existing
    user logs in meanwhile; once the lock goes, the registrations finish.
    """
    server = await startServer("--db-timeout", "60")
    loggedIn_ = await loggedIn(server.port, "alice")
    loggedIn_.close()
    locker = Locker(str(tmp_path / "chat.sqlite"))
    clients = []
    try:
        clients = await _registering(server.port, 5)
        alice = await connect(server.port)
        clients.append(alice)
        await alice.expect("C HELLO chatroom 1 TCP")
        alice.send("C LOGIN alice", "C PASS secret")
        await alice.expect(
            "C PASSWORD EXISTING", "C WELCOME alice TCP Welcome alice, you are connected via TCP."
        )
        # Alice is in while every registration still waits for the lock.
        assert [client.pending() for client in clients[:5]] == [0] * 5
    finally:
        locker.release()
    for n, client in enumerate(clients[:5]):
        assert (await client.next()).startswith(f"C WELCOME new{n} TCP ")
    for client in clients:
        client.close()


@pytest_twisted.ensureDeferred
async def test_writes_that_cannot_lock_are_unavailable(startServer, tmp_path):
    """
    With a short busy timeout, each pending registration is answered
    C{ERR UNAVAILABLE}; its name is free again, the session goes on, and
    the same registration succeeds once the lock is gone.
    """
    server = await startServer("--db-timeout", "1")
    (await loggedIn(server.port, "alice")).close()
    locker = Locker(str(tmp_path / "chat.sqlite"))
    clients = []
    try:
        clients = await _registering(server.port, 6)
        for client in clients:
            answer = await client.next()
            assert answer.startswith("C ERR UNAVAILABLE "), answer
        # Still locked: logins and name checks go on; the names were freed.
        alice = await loggedIn(server.port, "alice")
        alice.close()
        clients[0].send("C LOGIN new0")
        await clients[0].expect("C PASSWORD NEW")
    finally:
        locker.release()
    clients[0].send("C PASS pw")
    assert (await clients[0].next()).startswith("C WELCOME new0 TCP ")
    for client in clients:
        client.close()


@pytest_twisted.ensureDeferred
async def test_an_unreadable_database_stops_the_start(tmp_path, passwords):
    """
    A file that is not a database (damaged after the server checked it, so
    when the store opens it) stops the start with one line, and leaves
    nothing listening: a room without its accounts must not serve. (The
    store itself answers C{Unavailable} until the file is mended, should it
    be opened that way: see test_store.)
    """
    from twisted.internet import reactor

    path = tmp_path / "chat.sqlite"
    options = Options()
    options.parseOptions(["--port", "0", "--interface", "127.0.0.1", "--db", str(path)])
    top = buildService(options, reactor, passwords, UDPTimings(shutdownGrace=0.1))
    top.privilegedStartService()  # as twistd does: the ports are bound first
    port = top.getServiceNamed("tcp").port.getHost().port
    path.write_bytes(b"this is not an SQLite database, whatever its name says" * 100)
    with pytest.raises(StartupError) as raised:
        top.startService()
    assert str(raised.value) == f"cannot use --db {path}: file is not a database"
    assert not top.running
    assert top.getServiceNamed("tcp").port is None and top.getServiceNamed("udp").port is None
    await pause(0.1)  # a port closes on the reactor's next turn
    with pytest.raises(error.ConnectionRefusedError):
        await connect(port)
