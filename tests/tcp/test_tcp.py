"""
The server over real TCP sockets on 127.0.0.1: every frame of PROTOCOL.md
sections 1-4 and every error code of section 6 but RATE (flood control).
Scenarios that must go the same way over WebSocket take the C{stream}
fixture and run over both.
"""

from __future__ import annotations

import pytest_twisted
from helpers.wire import connect, loggedIn
from twisted.internet.defer import Deferred, gatherResults

WELCOME_ALICE = "C WELCOME alice TCP Welcome alice, you are connected via TCP."


@pytest_twisted.ensureDeferred
async def test_register_then_log_in_again(server):
    """
    A new name is registered at its first login and needs its password after.
    """
    alice = await connect(server.port)
    await alice.expect("C HELLO chatroom 1 TCP")
    alice.send("C LOGIN alice")
    await alice.expect("C PASSWORD NEW")
    alice.send("C PASS correct horse")
    await alice.expect(WELCOME_ALICE)
    alice.send("C EX")
    await alice.expect("C BYE EXIT")
    await alice.waitClosed()

    again = await connect(server.port)
    await again.expect("C HELLO chatroom 1 TCP")
    again.send("C LOGIN alice")
    await again.expect("C PASSWORD EXISTING")
    again.send("C PASS correct horse")
    await again.expect(WELCOME_ALICE)


@pytest_twisted.ensureDeferred
async def test_wrong_password_then_retry_then_closed_after_three(server):
    (await loggedIn(server.port, "alice", "right")).close()
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send("C LOGIN alice", "C PASS wrong")
    await client.expect("C PASSWORD EXISTING")
    assert (await client.next()).startswith("C ERR BAD_PASSWORD ")
    # After BAD_PASSWORD the client starts again with LOGIN; PASS alone is
    # out of order.
    client.send("C PASS right")
    assert (await client.next()).startswith("C ERR STATE ")
    client.send("C LOGIN alice", "C PASS right")
    await client.expect("C PASSWORD EXISTING", WELCOME_ALICE)
    client.close()

    brute = await connect(server.port)
    await brute.expect("C HELLO chatroom 1 TCP")
    for attempt in range(3):
        brute.send("C LOGIN alice", f"C PASS guess{attempt}")
        await brute.expect("C PASSWORD EXISTING")
        assert (await brute.next()).startswith("C ERR BAD_PASSWORD ")
    await brute.waitClosed()


@pytest_twisted.ensureDeferred
async def test_names_are_caseless_and_keep_their_registered_spelling(server):
    (await loggedIn(server.port, "Gökhan", "pw")).close()
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send("C LOGIN GÖKHAN", "C PASS pw")
    await client.expect(
        "C PASSWORD EXISTING", "C WELCOME Gökhan TCP Welcome Gökhan, you are connected via TCP."
    )
    rival = await connect(server.port)
    await rival.expect("C HELLO chatroom 1 TCP")
    rival.send("C LOGIN gökhan")
    assert (await rival.next()).startswith("C ERR NAME_TAKEN ")


@pytest_twisted.ensureDeferred
async def test_bad_names(server):
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    for bad in ["", "-dash", ".dot", "a" * 33, "with space", "smile😀", "semi;colon"]:
        client.send(f"C LOGIN {bad}")
        assert (await client.next()).startswith("C ERR BAD_NAME "), bad
    client.send("C LOGIN Şule")
    await client.expect("C PASSWORD NEW")


@pytest_twisted.ensureDeferred
async def test_registration_race_one_winner_and_release_on_failure(server):
    """
    Two people racing for one new name: exactly one may choose its password;
    when that login fails, the name is free again.
    """
    first, second = await connect(server.port), await connect(server.port)
    for client in (first, second):
        await client.expect("C HELLO chatroom 1 TCP")
    first.send("C LOGIN carol")
    second.send("C LOGIN carol")
    replies = {client: await client.next() for client in (first, second)}
    winner, loser = sorted(replies, key=lambda c: replies[c] != "C PASSWORD NEW")
    assert replies[winner] == "C PASSWORD NEW"
    assert replies[loser].startswith("C ERR NAME_TAKEN ")
    winner.send("C PASS ")  # an empty new password fails the login
    assert (await winner.next()).startswith("C ERR BAD_PASSWORD ")
    loser.send("C LOGIN carol", "C PASS mine")
    await loser.expect(
        "C PASSWORD NEW", "C WELCOME carol TCP Welcome carol, you are connected via TCP."
    )


@pytest_twisted.ensureDeferred
async def test_thirty_concurrent_registrations_while_others_chat(server):
    watcher = await loggedIn(server.port, "watcher")
    clients = await gatherResults([Deferred.fromCoroutine(connect(server.port)) for _ in range(30)])
    for i, client in enumerate(clients):
        client.send(f"C LOGIN user{i}", f"C PASS password{i}")
    watcher.send("C PING during")
    await watcher.expect("C PONG during")
    for i, client in enumerate(clients):
        await client.expect(
            "C HELLO chatroom 1 TCP",
            "C PASSWORD NEW",
            f"C WELCOME user{i} TCP Welcome user{i}, you are connected via TCP.",
        )
    joined = {await watcher.next() for _ in range(30)}
    assert joined == {f"C JOIN user{i} TCP" for i in range(30)}
    assert len(server.chat.roster.online) == 31


@pytest_twisted.ensureDeferred
async def test_public_message_reaches_everyone_but_the_sender(server):
    alice = await loggedIn(server.port, "alice")
    bob = await loggedIn(server.port, "bob")
    carol = await loggedIn(server.port, "carol")
    await alice.expect("C JOIN bob TCP", "C JOIN carol TCP")
    await bob.expect("C JOIN carol TCP")
    alice.send("C PM")
    await alice.expect("C ACK PM")
    alice.send("D Hello everyone, ünïcode too")
    await alice.expect("C OK PM 2")
    await bob.expect("D PM alice TCP Hello everyone, ünïcode too")
    await carol.expect("D PM alice TCP Hello everyone, ünïcode too")
    alice.send("C PING")
    await alice.expect("C PONG")  # nothing else arrived for the sender


@pytest_twisted.ensureDeferred
async def test_direct_message_and_missing_target(server):
    bob = await loggedIn(server.port, "Bob")
    alice = await loggedIn(server.port, "alice")
    await bob.expect("C JOIN alice TCP")
    alice.send("C DM")
    # Sorted without regard to case: "alice" before "Bob".
    await alice.expect("C USERS alice:TCP Bob:TCP")
    alice.send("D bob see you at five")
    await alice.expect("C OK DM Bob")
    await bob.expect("D DM alice TCP see you at five")

    alice.send("C DM", "D nobody hello?")
    await alice.expect("C USERS alice:TCP Bob:TCP")
    assert (await alice.next()).startswith("C ERR NO_SUCH_USER ")
    # The error ended the operation: another D is out of order.
    alice.send("D bob still there?")
    assert (await alice.next()).startswith("C ERR STATE ")
    bob.send("C WHO")
    await bob.expect("C USERS alice:TCP Bob:TCP")


@pytest_twisted.ensureDeferred
async def test_pipelined_frames_are_answered_in_order(server):
    bob = await loggedIn(server.port, "bob")
    alice = await connect(server.port)
    alice.send(
        "C LOGIN alice", "C PASS pw", "C PM", "D one", "C DM", "D bob two", "C WHO", "C PING end"
    )
    await alice.expect(
        "C HELLO chatroom 1 TCP",
        "C PASSWORD NEW",
        WELCOME_ALICE,
        "C ACK PM",
        "C OK PM 1",
        "C USERS alice:TCP bob:TCP",
        "C OK DM bob",
        "C USERS alice:TCP bob:TCP",
        "C PONG end",
    )
    await bob.expect("C JOIN alice TCP", "D PM alice TCP one", "D DM alice TCP two")


@pytest_twisted.ensureDeferred
async def test_a_new_operation_cancels_the_pending_one(server):
    alice = await loggedIn(server.port, "alice")
    bob = await loggedIn(server.port, "bob")
    await alice.expect("C JOIN bob TCP")
    alice.send("C DM", "C PM", "D public after all")
    await alice.expect("C USERS alice:TCP bob:TCP", "C ACK PM", "C OK PM 1")
    await bob.expect("D PM alice TCP public after all")
    alice.send("C PM", "C WHO", "D orphan")
    await alice.expect("C ACK PM", "C USERS alice:TCP bob:TCP")
    assert (await alice.next()).startswith("C ERR STATE ")


@pytest_twisted.ensureDeferred
async def test_join_and_leave_notices_with_reasons(server):
    alice = await loggedIn(server.port, "alice")
    bob = await loggedIn(server.port, "bob")
    await alice.expect("C JOIN bob TCP")
    bob.send("C EX")
    await bob.expect("C BYE EXIT")
    await alice.expect("C LEAVE bob TCP EXIT")
    carol = await loggedIn(server.port, "carol")
    await alice.expect("C JOIN carol TCP")
    carol.close()
    await alice.expect("C LEAVE carol TCP CLOSED")
    # A session that never logged in comes and goes without notices.
    stranger = await connect(server.port)
    await stranger.expect("C HELLO chatroom 1 TCP")
    stranger.send("C EX")
    await stranger.expect("C BYE EXIT")
    await stranger.waitClosed()
    alice.send("C PING")
    await alice.expect("C PONG")


@pytest_twisted.ensureDeferred
async def test_state_errors(server):
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    for frame in ["C PM", "C DM", "C WHO", "D hello", "C PASS secret"]:
        client.send(frame)
        assert (await client.next()).startswith("C ERR STATE "), frame
    client.send("C LOGIN alice", "C PASS pw", "D nothing pending", "C LOGIN again")
    await client.expect("C PASSWORD NEW", WELCOME_ALICE)
    assert (await client.next()).startswith("C ERR STATE ")
    assert (await client.next()).startswith("C ERR STATE ")


@pytest_twisted.ensureDeferred
async def test_bad_text(server):
    alice = await loggedIn(server.port, "alice")
    for frames in (["C PM", "D"], ["C PM", "D "], ["C DM", "D alice"], ["C DM", "D"]):
        alice.send(*frames)
        await alice.next()  # ACK PM or USERS
        assert (await alice.next()).startswith("C ERR BAD_TEXT "), frames
    alice.send("D late")
    assert (await alice.next()).startswith("C ERR STATE ")


@pytest_twisted.ensureDeferred
async def test_bad_frames_unknown_verbs_and_pings(server):
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    bad = [
        b"X hello",
        b"Chello",
        b"C",
        b"C  PM",
        b"C PING \x1b[2J",
        b"C PING \xff\xfe",
        b"\x7f",
        b"D \xc2\x9b",
    ]
    client.send(*bad)
    for frame in bad:
        assert (await client.next()).startswith("C ERR BAD_FRAME "), frame
    client.send("C EX now", "C FROB", "C pm", "C OK PM 1", "C PING", "C PING word")
    client.send("C PING two words")
    assert (await client.next()).startswith("C ERR BAD_FRAME ")  # EX takes nothing
    assert (await client.next()).startswith("C ERR UNKNOWN ")
    assert (await client.next()).startswith("C ERR UNKNOWN ")
    assert (await client.next()).startswith("C ERR UNKNOWN ")
    await client.expect("C PONG", "C PONG word")
    assert (await client.next()).startswith("C ERR BAD_FRAME ")
    # Tabs are allowed text; carriage return before the newline is dropped.
    client.send(b"C PING tab\tbed\r")
    await client.expect("C PONG tab\tbed")


@pytest_twisted.ensureDeferred
async def test_too_long_skips_the_line_not_the_connection(server):
    alice = await loggedIn(server.port, "alice")
    bob = await loggedIn(server.port, "bob")
    await alice.expect("C JOIN bob TCP")
    longest = "D " + "x" * 4094  # exactly 4096 bytes: allowed
    alice.send("C PM", longest)
    await alice.expect("C ACK PM", "C OK PM 1")
    await bob.expect(f"D PM alice TCP {'x' * 4094}")
    # One byte more is too long, and ends the pending operation; the frame
    # pipelined after it is still handled.
    alice.send("C PM", "D " + "y" * 4095, "D after", "C PING alive")
    await alice.expect("C ACK PM")
    assert (await alice.next()).startswith("C ERR TOO_LONG ")
    assert (await alice.next()).startswith("C ERR STATE ")
    await alice.expect("C PONG alive")
    # Far too long for the line buffer: still known as a data frame.
    alice.send("C PM", "D " + "w" * 6000, "D after")
    await alice.expect("C ACK PM")
    assert (await alice.next()).startswith("C ERR TOO_LONG ")
    assert (await alice.next()).startswith("C ERR STATE ")
    # Not even a well-formed data frame, but it was meant as one.
    alice.send("C PM", "Dhello", "D after")
    await alice.expect("C ACK PM")
    assert (await alice.next()).startswith("C ERR BAD_FRAME ")
    assert (await alice.next()).startswith("C ERR STATE ")
    # A huge line arriving in pieces is skipped to its end.
    for _ in range(5):
        alice.transport.write(b"z" * 20000)
    alice.send(b"z's end", "C PING later")
    assert (await alice.next()).startswith("C ERR TOO_LONG ")
    await alice.expect("C PONG later")
    assert alice.pending() == 0 and bob.pending() == 0


@pytest_twisted.ensureDeferred
async def test_server_sends_crlf(server):
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    assert client.raw == [b"C HELLO chatroom 1 TCP\r"]


@pytest_twisted.ensureDeferred
async def test_full_server_refuses_with_err_full(startServer, stream):
    server = await startServer("--max-clients", "2")
    port = stream.port(server)
    first = await stream.loggedIn(port, "one")
    second = await stream.connect(port)
    await second.expect(f"C HELLO chatroom 1 {stream.name}")
    third = await stream.connect(port)
    assert (await third.next()).startswith("C ERR FULL ")
    await third.waitClosed()
    second.close()
    await second.waitClosed()
    fourth = await stream.connect(port)
    await fourth.expect(f"C HELLO chatroom 1 {stream.name}")
    first.send("C PING")
    await first.expect("C PONG")


@pytest_twisted.ensureDeferred
async def test_unfinished_login_times_out_and_frees_the_name(startServer, stream):
    server = await startServer("--login-timeout=0.5")
    squatter = await stream.connect(stream.port(server))
    await squatter.expect(f"C HELLO chatroom 1 {stream.name}")
    squatter.send("C LOGIN dave")
    await squatter.expect("C PASSWORD NEW")
    await squatter.expect("C ERR STATE login timed out")
    await squatter.waitClosed()
    dave = await stream.connect(stream.port(server))
    await dave.expect(f"C HELLO chatroom 1 {stream.name}")
    dave.send("C LOGIN dave")
    await dave.expect("C PASSWORD NEW")


@pytest_twisted.ensureDeferred
async def test_accounts_survive_a_restart(startServer):
    first = await startServer()
    (await loggedIn(first.port, "erin", "s3cret")).close()
    await first.stop()
    second = await startServer()
    client = await connect(second.port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send("C LOGIN ERIN", "C PASS wrong", "C LOGIN erin", "C PASS s3cret")
    await client.expect("C PASSWORD EXISTING")
    assert (await client.next()).startswith("C ERR BAD_PASSWORD ")
    await client.expect(
        "C PASSWORD EXISTING", "C WELCOME erin TCP Welcome erin, you are connected via TCP."
    )


@pytest_twisted.ensureDeferred
async def test_shutdown_says_bye_to_everyone(server, stream):
    port = stream.port(server)
    alice = await stream.loggedIn(port, "alice")
    bob = await stream.loggedIn(port, "bob")
    await alice.expect(f"C JOIN bob {stream.name}")
    stranger = await stream.connect(port)
    await stranger.expect(f"C HELLO chatroom 1 {stream.name}")
    await server.stop()
    for client in (alice, bob, stranger):
        await client.expect("C BYE SHUTDOWN")
        await client.waitClosed()
        assert client.pending() == 0  # no LEAVE notices during a shutdown


@pytest_twisted.ensureDeferred
async def test_without_accounts_login_is_immediate(startServer):
    server = await startServer("--no-accounts")
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send("C LOGIN frank", "C PASS nothing")
    await client.expect("C WELCOME frank TCP Welcome frank, you are connected via TCP.")
    assert (await client.next()).startswith("C ERR STATE ")
