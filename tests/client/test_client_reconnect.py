"""
C{chatclient} coming back after the server restarts on the same port, as
real processes: at a terminal (pexpect + pyte) over TCP, piped with
C{--reconnect} over UDP; piped without it, today's exits.
"""

from __future__ import annotations

from pathlib import Path

import pexpect
from helpers.servers import pipedSay
from helpers.terminal import Screen
from helpers.wire import ClientProcess

PASSWORD = "Zq7-held-in-memory-only"


def noPasswordIn(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_the_terminal_client_is_back_in_the_room_after_a_restart(restartable, tmp_path):
    """
    The user types nothing: the client says the server went, counts down,
    logs in again and shows what was said meanwhile, and only that.
    """
    alice = Screen("127.0.0.1", str(restartable.ports["TCP"]), "alice")
    try:
        alice.waitFor("Choose a password for alice:")
        alice.type(PASSWORD + "\r")
        alice.waitFor("Type the same password again:")  # h13-ux: new passwords twice
        alice.type(PASSWORD + "\r")
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        pipedSay(restartable, "bob", "before the restart")
        alice.waitFor("bob[TCP] : before the restart")
        restartable.stop()
        alice.waitFor("The server is shutting down.")
        alice.waitFor("Reconnecting in 1 s (attempt 1 of")
        # Attempts fail while it is down; the fourth waits 8 s, time for bob.
        alice.waitFor("Reconnecting in 8 s (attempt 4 of", seconds=20)
        restartable.start()
        pipedSay(restartable, "bob", "while alice was away")
        alice.waitFor("Said while you were away:", seconds=20)
        alice.waitFor("bob[TCP] : while alice was away")
        screen = "\n".join(alice.lines())
        assert screen.count("before the restart") == 1, screen  # not shown again
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        restartable.server.waitForLog("alice [TCP] has connected.")
        # Back in the room for real: a message reaches her.
        pipedSay(restartable, "carol", "welcome back")
        alice.waitFor("carol[TCP] : welcome back")
        alice.type("EX\r")
        alice.waitFor("Bye.")
        alice.child.expect(pexpect.EOF)
        alice.child.close()
        assert alice.child.exitstatus == 0
    finally:
        alice.child.close(force=True)
    assert PASSWORD not in restartable.log()
    noPasswordIn(tmp_path)


def test_piped_with_reconnect_over_udp(restartable, tmp_path):
    client = ClientProcess(
        "127.0.0.1", str(restartable.ports["UDP"]), "dora", "--udp", "--reconnect"
    )
    try:
        client.type(PASSWORD)
        client.waitFor("Operation [PM/DM/EX]")
        restartable.stop()
        client.waitFor("The server is shutting down.")
        client.waitFor("Reconnecting in 1 s")
        # The attempt after this one comes 16 s later: time for the server to start and
        # bob to speak before dora is back, even on a loaded machine (8 s was not always).
        client.waitFor("Reconnecting in 16 s", wait=30)
        restartable.start()
        pipedSay(restartable, "bob", "said over the restart")
        client.waitFor("Said while you were away:", wait=30)
        client.waitFor("bob[TCP] : said over the restart")
        restartable.server.waitForLog("dora [UDP] has connected.")
        client.type("PM", "I am back")
        client.waitFor("Sent to 0 users.")
        client.type("EX")
        assert client.wait() == 0
        assert client.lines[-1] == "Bye."
    finally:
        client.stop()
    assert PASSWORD not in restartable.log()
    noPasswordIn(tmp_path)


def test_piped_without_reconnect_keeps_todays_exits(restartable):
    client = ClientProcess("127.0.0.1", str(restartable.ports["TCP"]), "erin")
    try:
        client.type("pw")
        client.waitFor("Operation [PM/DM/EX]")
        restartable.stop()
        assert client.wait() == 0
        assert client.lines[-1] == "The server is shutting down."
    finally:
        client.stop()


def test_a_lost_tcp_connection_is_noticed_and_repaired(restartable):
    """
    The server killed without a goodbye: the connection is simply lost.
    """
    import signal

    client = ClientProcess("127.0.0.1", str(restartable.ports["TCP"]), "fred", "--reconnect")
    try:
        client.type("pw")
        client.waitFor("Operation [PM/DM/EX]")
        restartable.server.stop(signal.SIGKILL)
        client.waitFor("Lost connection to the server.")
        client.waitFor("Could not reconnect: the connection was refused; is the server running?")
        restartable.start()
        client.waitFor("Back in the room after")
        client.type("EX")
        assert client.wait() == 0
    finally:
        client.stop()
