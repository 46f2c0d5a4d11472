"""
The client on a real pseudo-terminal, judged by what the screen shows.

pexpect runs C{chatclient} on a pty; pyte, a terminal emulator, turns what
it writes into the screen a person would see.
"""

from __future__ import annotations

import re

import pexpect
from helpers.terminal import Screen
from helpers.wire import ClientProcess, pipedClient


def test_a_message_arrives_while_alice_types(server):
    """
    The seeds' test: while alice sits at "Message:" with text half typed,
    bob's direct message prints first, then her prompt returns with her
    text intact, and she can finish it.
    """
    alice = Screen("127.0.0.1", str(server.ports["TCP"]), "alice")
    try:
        alice.waitFor("Choose a password for alice:")
        alice.type("hunter2\r")
        alice.waitFor("Type the same password again:")  # issue 13: typed twice
        alice.type("hunter2\r")
        alice.waitFor("Operation [PM/DM/EX]:")
        assert "hunter2" not in "\n".join(alice.lines())  # hidden
        alice.type("PM\r")
        alice.waitFor("Message:")
        alice.type("half typ")
        alice.pump()
        status, out = pipedClient(
            server.ports["UDP"], "bob", "pw\nDM\nalice\nsee you at five\nEX\n", udp=True
        )
        assert status == 0 and "Delivered to alice." in out, out
        alice.waitFor("bob [UDP] has left the chat.")
        alice.waitForPrompt("Message: half typ")  # redrawn after the notices, maybe a moment later
        lines = alice.lines()
        # Issue 13: every message carries its local time, HH:MM.
        (direct,) = [
            i
            for i, line in enumerate(lines)
            if re.fullmatch(r"\d\d:\d\d bob\[UDP\] \(direct\) : see you at five", line)
        ]
        assert lines[-1] == "Message: half typ"  # the prompt, redrawn, text intact
        assert direct < len(lines) - 1
        alice.type("ed\r")
        alice.waitFor("Sent to 0 users.")
        alice.type("EX\r")
        alice.waitFor("Bye.")
        alice.child.expect(pexpect.EOF)
        alice.child.close()
        assert alice.child.exitstatus == 0
    finally:
        alice.child.close(force=True)


def test_ctrl_c_leaves_politely(server):
    carol = Screen("127.0.0.1", str(server.ports["UDP"]), "carol", "--udp")
    try:
        carol.waitFor("Choose a password for carol:")
        carol.type("pw\r")
        carol.waitFor("Type the same password again:")  # issue 13: typed twice
        carol.type("pw\r")
        carol.waitFor("Operation [PM/DM/EX]:")
        carol.type("\x03")
        carol.waitFor("Bye.")
        carol.child.expect(pexpect.EOF)
        carol.child.close()
        assert carol.child.exitstatus == 0
        server.waitForLog("carol [UDP] has left the chat. (EXIT)")
    finally:
        carol.child.close(force=True)


UP = "\x1b[A"


def test_up_arrow_never_brings_back_the_password(server):
    """
    Each kind of prompt has its own history and the password prompt none:
    Up at "Operation" or "Message:" cannot show the password, and Enter
    after it cannot send it to the room (issue 9, item 1).
    """
    password = "Zq7-hunter2-secret"
    alice = Screen("127.0.0.1", str(server.ports["TCP"]), "alice")
    try:
        alice.waitFor("Choose a password for alice:")
        alice.type(password + "\r")
        alice.waitFor("Type the same password again:")  # issue 13: typed twice
        alice.type(password + "\r")
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        alice.type(UP * 3)
        alice.pump()
        assert password not in "\n".join(alice.lines())
        alice.type("\r")  # whatever Up left on the line
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        alice.type("PM\r")
        alice.waitForPrompt("Message:")
        alice.type(UP * 3)
        alice.pump()
        assert password not in "\n".join(alice.lines())
        alice.type("\r")
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        # Whatever was sent, one more message shows that it has been handled.
        alice.type("PM\r")
        alice.waitForPrompt("Message:")
        alice.type("first words\r")
        alice.waitFor("Sent to 0 users.")
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        server.waitForLog("alice[TCP] : first words")
        assert password not in "\n".join(alice.lines())
        assert password not in server.log()
        # Message prompts keep their own history: Up brings the last one back.
        alice.type("PM\r")
        alice.waitForPrompt("Message:")
        alice.type(UP + " again\r")
        server.waitForLog("alice[TCP] : first words again")
        alice.type("EX\r")
        alice.waitFor("Bye.")
        alice.child.expect(pexpect.EOF)
    finally:
        alice.child.close(force=True)


STAMPED = re.compile(r"\d\d:\d\d ")


def test_a_session_of_the_new_client(server):
    """
    Issue 13 on the screen: arriving shows who is online, the history
    marked as earlier and the direct message kept meanwhile, all with
    times; one line sends a PM or a DM; WHO; a bracketed paste of three
    lines sends three messages in order; a departure says why.
    """
    tcp, udp = str(server.ports["TCP"]), server.ports["UDP"]
    assert pipedClient(int(tcp), "alice", "pw\nEX\n")[0] == 0  # registered, then away
    status, out = pipedClient(
        udp, "bob", "pw\nPM before you came\nDM alice kept for you\nEX\n", udp=True
    )
    assert status == 0 and "Kept for alice" in out, out
    # A UDP client may be gone before the server has handled its EX.
    server.waitForLog("bob [UDP] has left the chat.")
    carol = ClientProcess("127.0.0.1", tcp, "carol")
    alice = Screen("127.0.0.1", tcp, "alice")
    try:
        carol.type("pw")
        carol.waitFor("Operation [PM/DM/EX]")
        alice.waitFor("Password:")
        alice.type("pw\r")
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        lines = alice.lines()
        arrival = [
            next((i for i, line in enumerate(lines) if text in line), f"{text!r} missing")
            for text in [
                "Online now (2): alice[TCP] (you), carol[TCP]",
                "(earlier) bob[UDP] : before you came",
                "A direct message came while you were away:",
                "bob[UDP] (direct) : kept for you",
            ]
        ]
        assert all(isinstance(i, int) for i in arrival), (arrival, lines)
        assert arrival == sorted(arrival), lines
        for i in (arrival[0], arrival[1], arrival[3]):
            assert STAMPED.match(lines[i]), lines[i]

        alice.type("PM hello all\r")
        alice.waitFor("alice[TCP] (you) : hello all · Sent to 1 user.")
        carol.waitFor("alice[TCP] : hello all")
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        alice.type("DM carol psst\r")
        alice.waitFor("alice[TCP] (direct to carol) : psst · Delivered to carol.")
        carol.waitFor("alice[TCP] (direct) : psst")
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        alice.type("WHO\r")
        alice.waitFor("Online now (2)")

        alice.waitForPrompt("Operation [PM/DM/EX]:")
        alice.type("\x1b[200~one\rtwo\rthree\x1b[201~\r")  # a bracketed paste, then Enter
        alice.waitFor("Send these 3 lines to everyone, one message each? [Y/n]:")
        alice.type("\r")
        for word in ("one", "two", "three"):
            carol.waitFor(f"alice[TCP] : {word}")  # in order, each once
        alice.waitFor("alice[TCP] (you) : three · Sent to 1 user.")
        assert "Unknown operation" not in "\n".join(alice.lines())

        carol.stop()  # killed: its connection closes
        alice.waitFor("carol [TCP] has left the chat (connection closed).")
        assert STAMPED.match(next(line for line in alice.lines() if "carol [TCP] has left" in line))
        alice.type("EX\r")
        alice.waitFor("Bye.")
        alice.child.expect(pexpect.EOF)
    finally:
        carol.stop()
        alice.child.close(force=True)


def test_ctrl_c_at_message_cancels_and_text_too_long_is_kept(server):
    alice = Screen("127.0.0.1", str(server.ports["TCP"]), "alice")
    try:
        alice.waitFor("Choose a password for alice:")
        alice.type("pw\r")
        alice.waitFor("Type the same password again:")
        alice.type("pw\r")
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        alice.type("PM\r")
        alice.waitForPrompt("Message:")
        alice.type("never mind\x03")
        alice.waitFor("Cancelled.")
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        # Too long by 104 bytes: refused before sending, kept on the line;
        # taking 200 characters off sends the rest.
        alice.type("PM " + "x" * 4198 + "\r")
        alice.pump(1)
        assert "Sent to" not in "\n".join(alice.lines())
        alice.type("\x7f" * 200 + "\r")
        alice.waitFor("· Sent to 0 users.")
        server.waitForLog("alice[TCP] : xxxxxxxxxx")
        alice.waitForPrompt("Operation [PM/DM/EX]:")
        alice.type("\x03")  # Ctrl-C at the operation prompt leaves
        alice.waitFor("Bye.")
        alice.child.expect(pexpect.EOF)
        alice.child.close()
        assert alice.child.exitstatus == 0
    finally:
        alice.child.close(force=True)
