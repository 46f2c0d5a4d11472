"""
C{C LOGIN <name> GHOST} (1.1) over real sockets: the right password ends
the user's own older session, on either transport, and the others see it
leave (C{REPLACED}) before the new one joins; anything else touches nothing.
"""

from __future__ import annotations

import pytest_twisted
from helpers.wire import connect, loggedIn

WELCOME_TCP = "C WELCOME alice TCP Welcome alice, you are connected via TCP."
WELCOME_UDP = "C WELCOME alice UDP Welcome alice, you are connected via UDP."


async def ghostTCP(port: int, name: str = "alice", password: str = "secret"):
    """
    A new TCP session that asks for C{name} with GHOST, past C{C PASSWORD}.
    """
    client = await connect(port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send(f"C LOGIN {name} GHOST", f"C PASS {password}")
    return client


@pytest_twisted.ensureDeferred
async def test_tcp_replaces_tcp(server):
    old = await loggedIn(server.port, "alice")
    bob = await loggedIn(server.port, "bob")
    await old.expect("C JOIN bob TCP")
    new = await ghostTCP(server.port)
    await new.expect("C PASSWORD EXISTING", WELCOME_TCP)
    await old.expect("C BYE REPLACED")
    await old.waitClosed()
    # LEAVE ... REPLACED first, then the JOIN: never two alices, never none.
    await bob.expect("C LEAVE alice TCP REPLACED", "C JOIN alice TCP")
    bob.send("C WHO")
    await bob.expect("C USERS alice:TCP bob:TCP")
    new.send("C DM", "D bob it is me again")
    await new.expect("C USERS alice:TCP bob:TCP", "C OK DM bob")
    await bob.expect("D DM alice TCP it is me again")
    for client in (new, bob):
        client.close()


@pytest_twisted.ensureDeferred
async def test_tcp_replaces_a_lingering_udp_session(server, udp):
    """
    The issue's case: a UDP client vanished without C EX. Without GHOST its
    name is locked until the UDP session times out; with it, at once.
    """
    old = await udp.loggedIn(server.udpPort, "alice")
    bob = await loggedIn(server.port, "bob")
    await old.expect("C JOIN bob TCP")
    await old.close()  # vanished: nothing is acknowledged any more
    plain = await connect(server.port)
    await plain.expect("C HELLO chatroom 1 TCP")
    plain.send("C LOGIN alice")
    assert (await plain.next()).startswith("C ERR NAME_TAKEN ")
    plain.send("C LOGIN alice GHOST", "C PASS secret")
    await plain.expect("C PASSWORD EXISTING", WELCOME_TCP)
    await bob.expect("C LEAVE alice UDP REPLACED", "C JOIN alice TCP")
    bob.send("C WHO")
    await bob.expect("C USERS alice:TCP bob:TCP")
    assert all(s.channel.transportName == "TCP" for s in server.chat.sessions)
    for client in (plain, bob):
        client.close()


@pytest_twisted.ensureDeferred
async def test_udp_replaces_tcp(server, udp):
    old = await loggedIn(server.port, "alice")
    bob = await loggedIn(server.port, "bob")
    await old.expect("C JOIN bob TCP")
    new = await udp.reliable(server.udpPort)
    new.send("C LOGIN alice GHOST", "C PASS secret")
    await new.expect("C HELLO chatroom 1 UDP", "C PASSWORD EXISTING", WELCOME_UDP)
    await old.expect("C BYE REPLACED")
    await old.waitClosed()
    await bob.expect("C LEAVE alice TCP REPLACED", "C JOIN alice UDP")
    new.send("C WHO")
    await new.expect("C USERS alice:UDP bob:TCP")
    bob.close()


@pytest_twisted.ensureDeferred
async def test_wrong_password_touches_nothing_and_counts(startServer):
    server = await startServer("--login-failures", "1")
    old = await loggedIn(server.port, "alice")
    bob = await loggedIn(server.port, "bob")
    await old.expect("C JOIN bob TCP")
    new = await ghostTCP(server.port, password="not it")
    await new.expect("C PASSWORD EXISTING")
    assert (await new.next()).startswith("C ERR BAD_PASSWORD ")
    # The old session is untouched: still present, still served.
    bob.send("C PM", "D still there?")
    await bob.expect("C ACK PM", "C OK PM 1")
    await old.expect("D PM bob TCP still there?")
    bob.send("C WHO")
    await bob.expect("C USERS alice:TCP bob:TCP")
    assert old.pending() == 0 and bob.pending() == 0
    # It counted as a wrong password: the address's one a minute is used up.
    new.send("C LOGIN alice GHOST")
    assert (await new.next()).startswith("C ERR RATE ")
    for client in (old, bob, new):
        client.close()


@pytest_twisted.ensureDeferred
async def test_ghost_on_a_free_name_is_an_ordinary_login(server):
    bob = await loggedIn(server.port, "bob")
    carol = await ghostTCP(server.port, "carol")
    await carol.expect(
        "C PASSWORD NEW", "C WELCOME carol TCP Welcome carol, you are connected via TCP."
    )
    await bob.expect("C JOIN carol TCP")
    carol.send("C EX")
    await carol.expect("C BYE EXIT")
    await bob.expect("C LEAVE carol TCP EXIT")
    # Registered, nobody online under it: a plain login again, no LEAVE.
    again = await ghostTCP(server.port, "carol")
    await again.expect(
        "C PASSWORD EXISTING", "C WELCOME carol TCP Welcome carol, you are connected via TCP."
    )
    await bob.expect("C JOIN carol TCP")
    assert bob.pending() == 0
    for client in (bob, carol, again):
        client.close()


@pytest_twisted.ensureDeferred
async def test_ghost_never_replaces_a_look_alike(server):
    old = await loggedIn(server.port, "alice")
    mimic = await connect(server.port)
    await mimic.expect("C HELLO chatroom 1 TCP")
    mimic.send("C LOGIN aIice GHOST")  # capital I: passes for alice
    assert (await mimic.next()).startswith("C ERR NAME_TAKEN aIice looks like alice")
    mimic.send("C LOGIN ALICE GHOST", "C PASS secret")  # the same account, other case
    await mimic.expect("C PASSWORD EXISTING", WELCOME_TCP)
    await old.expect("C BYE REPLACED")
    mimic.close()


@pytest_twisted.ensureDeferred
async def test_nobody_takes_the_name_while_a_ghost_login_runs(server):
    old = await loggedIn(server.port, "alice")
    new = await connect(server.port)
    await new.expect("C HELLO chatroom 1 TCP")
    new.send("C LOGIN alice GHOST")
    await new.expect("C PASSWORD EXISTING")
    third = await connect(server.port)
    await third.expect("C HELLO chatroom 1 TCP")
    for login in ("C LOGIN alice", "C LOGIN alice GHOST", "C LOGIN aIice"):
        third.send(login)
        assert (await third.next()).startswith("C ERR NAME_TAKEN "), login
    new.send("C PASS secret")
    await new.expect(WELCOME_TCP)
    await old.expect("C BYE REPLACED")
    third.send("C LOGIN alice GHOST")
    await third.expect("C PASSWORD EXISTING")  # now it could replace the new one
    for client in (new, third):
        client.close()


@pytest_twisted.ensureDeferred
async def test_a_wrong_ghost_password_leaves_look_alikes_refused(server):
    """
    The GHOST reservation shares the name's look with its holder; giving
    it back must not free that look while the holder is still present.
    """
    old = await loggedIn(server.port, "alice")
    new = await ghostTCP(server.port, password="not it")
    await new.expect("C PASSWORD EXISTING")
    assert (await new.next()).startswith("C ERR BAD_PASSWORD ")
    new.send("C LOGIN aIice")
    # Refused as online, not only as an account's look-alike (the database).
    assert await new.next() == "C ERR NAME_TAKEN aIice looks like alice, already in use"
    for client in (old, new):
        client.close()


@pytest_twisted.ensureDeferred
async def test_without_accounts_a_taken_name_stays_taken(startServer):
    """
    No password can prove a name is yours in a room without accounts, so
    GHOST replaces nobody there; on a free name it is a plain login.
    """
    server = await startServer("--no-accounts")
    old = await connect(server.port)
    await old.expect("C HELLO chatroom 1 TCP")
    old.send("C LOGIN alice GHOST")
    await old.expect(WELCOME_TCP)
    new = await connect(server.port)
    await new.expect("C HELLO chatroom 1 TCP")
    new.send("C LOGIN alice GHOST")
    assert (await new.next()).startswith("C ERR NAME_TAKEN ")
    old.send("C WHO")
    await old.expect("C USERS alice:TCP")
    for client in (old, new):
        client.close()
