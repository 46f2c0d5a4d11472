"""
C{chatclient} and GHOST (1.1), as real processes against C{twistd -n
chatroom}: at a terminal it offers to end the user's own other session when
the name is taken; piped, it does so only when an answer line asks
(C{!ghost}); a client whose session is replaced says so and exits.
"""

from __future__ import annotations

import pexpect
from helpers.terminal import Screen
from helpers.wire import BlockingUDP, pipedClient

PASSWORD = "Zq7-ghostly-secret"


def test_the_terminal_client_offers_to_end_the_other_session(server):
    old = Screen("127.0.0.1", str(server.ports["UDP"]), "alice", "--udp")
    new = None
    try:
        old.waitFor("Choose a password for alice:")
        old.type(PASSWORD + "\r")
        old.waitFor("Type the same password again:")  # issue 13: typed twice
        old.type(PASSWORD + "\r")
        old.waitForPrompt("Operation [PM/DM/EX]:")
        new = Screen("127.0.0.1", str(server.ports["TCP"]), "alice")
        new.waitFor("The username alice is already in use.")
        new.waitForPrompt("If that is you, end your other session and log in here? [y/N]:")
        new.type("y\r")
        new.waitForPrompt("Password:")
        new.type(PASSWORD + "\r")
        new.waitFor("Welcome alice, you are connected via TCP.")
        new.waitForPrompt("Operation [PM/DM/EX]:")
        # The old client is told plainly, and exits.
        old.waitFor("You logged in as alice somewhere else, which ended this session.")
        old.child.expect(pexpect.EOF)
        old.child.close()
        assert old.child.exitstatus == 0
        server.waitForLog("alice[UDP] replaced by a new login from 127.0.0.1")
        server.waitForLog("alice [UDP] has left the chat. (REPLACED)")
        server.waitForLog("alice [TCP] has connected.")
        assert PASSWORD not in server.log()
        new.type("EX\r")
        new.waitFor("Bye.")
        new.child.expect(pexpect.EOF)
    finally:
        old.child.close(force=True)
        if new is not None:
            new.child.close(force=True)


def test_piped_client_replaces_a_vanished_udp_session_only_when_asked(server):
    vanished = BlockingUDP(server.ports["UDP"])
    try:
        vanished.send("C LOGIN alice")
        assert vanished.next() == "C HELLO chatroom 1 UDP"
        assert vanished.next() == "C PASSWORD NEW"
        vanished.send(f"C PASS {PASSWORD}")
        assert vanished.next().startswith("C WELCOME alice UDP ")
    finally:
        vanished.close()  # gone without C EX: the name lingers
    # Today's scripts: a taken name is followed by another name.
    status, out = pipedClient(server.ports["TCP"], "alice", "bob\npw\nEX\n")
    assert status == 0, out
    assert "That username is already taken, please enter a different one." in out
    assert "Welcome bob, you are connected via TCP." in out
    # A script that asks for it takes the name back.
    status, out = pipedClient(server.ports["TCP"], "alice", f"!ghost\n{PASSWORD}\nPM\nhi\nEX\n")
    assert status == 0, out
    assert "Welcome alice, you are connected via TCP." in out
    assert "Sent to 0 users." in out
    server.waitForLog("alice[UDP] replaced by a new login from 127.0.0.1")
