"""
C{C PASSWD} (protocol 1.2): a user changes their own password, logged in, over TCP and over
WebSocket; a wrong old password counts as any wrong password does, and the third closes the
session; a bad new password is refused; the new password is the one that works afterwards.
"""

from __future__ import annotations

import pytest_twisted
from helpers import wswire
from helpers.wire import connect, loggedIn


async def _logIn(port: int, name: str, password: str) -> str:
    client = await connect(port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send(f"C LOGIN {name}", f"C PASS {password}")
    await client.expect("C PASSWORD EXISTING")
    answer = await client.next()
    if answer.startswith("C WELCOME "):  # leave, so that the name is free again
        client.send("C EX")
        await client.expect("C BYE EXIT")
    client.close()
    return answer


@pytest_twisted.ensureDeferred
async def test_a_user_changes_their_password(startServer):
    server = await startServer()
    alice = await loggedIn(server.port, "alice", "old secret")
    alice.send("C PASS too early")
    await alice.expect("C ERR STATE send C PASSWD first")
    alice.send("C PASSWD", "C PASS old secret", "C PASS new secret, longer")
    await alice.expect("C PASSWORD EXISTING", "C PASSWORD NEW", "C OK PASSWD")
    # The session goes on.
    alice.send("C PING ok")
    await alice.expect("C PONG ok")
    alice.send("C EX")
    await alice.expect("C BYE EXIT")
    assert await _logIn(server.port, "alice", "old secret") == "C ERR BAD_PASSWORD wrong password"
    welcome = await _logIn(server.port, "ALICE", "new secret, longer")
    assert welcome.startswith("C WELCOME alice TCP ")
    # A bad new password is refused, and the old one stays.
    again = await wswire.loggedIn(server.webPort, "alice", "new secret, longer")
    again.send("C PASSWD", "C PASS new secret, longer", "C PASS ")
    await again.expect(
        "C PASSWORD EXISTING", "C PASSWORD NEW", "C ERR BAD_PASSWORD choose 1 to 256 characters"
    )
    again.send("C PASS x")
    await again.expect("C ERR STATE send C PASSWD first")
    again.send("C PASSWD", "C PASS new secret, longer", "C PASS", "C PASS web")
    await again.expect("C PASSWORD EXISTING", "C PASSWORD NEW")
    assert (await again.next()).startswith("C ERR BAD_PASSWORD ")
    await again.expect("C ERR STATE send C PASSWD first")
    again.send("C PASSWD", "C PASS new secret, longer", "C PASS web")
    await again.expect("C PASSWORD EXISTING", "C PASSWORD NEW", "C OK PASSWD")
    again.close()
    await again.waitClosed()
    assert (await _logIn(server.port, "alice", "web")).startswith("C WELCOME alice TCP ")


@pytest_twisted.ensureDeferred
async def test_three_wrong_old_passwords_close_the_session(startServer):
    server = await startServer()
    bob = await loggedIn(server.port, "bob", "right")
    for _ in range(2):
        bob.send("C PASSWD", "C PASS wrong")
        await bob.expect("C PASSWORD EXISTING", "C ERR BAD_PASSWORD wrong password")
    bob.send("C PASSWD", "C PASS wrong")
    await bob.expect("C PASSWORD EXISTING", "C ERR BAD_PASSWORD wrong password; goodbye")
    await bob.waitClosed()
    assert server.chat.counters.logins["bad_password"] == 3
    # Counted for the address too, as wrong passwords at login are.
    assert server.chat.login.failures.blocked("127.0.0.1", server.chat.clock.seconds()) is False
    assert (await _logIn(server.port, "bob", "right")).startswith("C WELCOME bob TCP ")


@pytest_twisted.ensureDeferred
async def test_passwd_without_accounts_is_denied(startServer):
    server = await startServer("--no-accounts")
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send("C LOGIN solo", "C PASSWD", "C PASS x")
    assert (await client.next()).startswith("C WELCOME solo")
    await client.expect(
        "C ERR DENIED this server has no accounts, so no passwords",
        "C ERR STATE send C PASSWD first",
    )
