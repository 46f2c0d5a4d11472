"""
What a new user tripped over in chatclient (issue 21, defect 7), each
shown by a test that failed before its fix: a stray command broadcast by
Enter, Enter; Ctrl-C quitting with a half-typed line; a prompt left on the
screen after a takeover; Twisted's text for a refused connection; a
countdown printing a new line every few seconds for the same attempt.
"""

from __future__ import annotations

import io
import socket

import pexpect
import pytest
from helpers.machineview import OPERATION, View, welcomed
from helpers.terminal import Screen
from helpers.wire import pipedClient
from twisted.internet import error
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from chatroom.client.machine import ClientMachine
from chatroom.client.reconnect import Backoff, Reconnector, whyNotConnected
from chatroom.client.terminal import LineUI

PASSWORD = "Zq7-rough-edges"


def atTerminal() -> tuple[ClientMachine, View]:
    return welcomed(terminal=True)


@pytest.mark.parametrize(
    "typed", ["clear", "/quit", "!help", ":q", "\\q", "ls -la", "git log --oneline", "quit!"]
)
def test_enter_keeps_back_what_looks_like_a_command(typed):
    machine, view = atTerminal()
    machine.answer(typed)
    assert view.take() == ([], [], [("Send that to everyone? [y/N]: ", False)])
    machine.answer("")  # Enter, Enter: nothing is broadcast
    assert view.take() == ([], ["Not sent."], [OPERATION])
    machine.answer(typed)
    machine.answer("y")  # asked for: sent
    assert view.take()[0] == ["C PM"]


@pytest.mark.parametrize("typed", ["hello there", "How are you?", ":D", ":)", "/ not a command"])
def test_enter_still_sends_what_looks_like_talk(typed):
    machine, view = atTerminal()
    machine.answer(typed)
    assert view.take()[2] == [("Send that to everyone? [Y/n]: ", False)]
    machine.answer("")
    assert view.take()[0] == ["C PM"]


def test_ctrl_c_clears_a_half_typed_line_and_leaves_on_an_empty_one():
    machine, view = atTerminal()
    machine.interrupted(typed=True)
    assert view.take() == ([], [], [OPERATION])  # the line is cleared; still here
    machine.interrupted()
    assert view.take()[0] == ["C EX"]


def test_the_countdown_is_one_status_line_per_attempt():
    clock = Clock()
    shown: list[str] = []
    status: list[str] = []
    reconnector = Reconnector(
        clock,
        shown.append,
        lambda: None,
        shown.append,
        Backoff(first=30, cap=30, attempts=2),
        status=status.append,
    )
    reconnector.lost("Lost connection to the server.")
    clock.pump([1] * 30)
    reconnector.lost("the connection was refused; is the server running?")
    clock.pump([1] * 30)
    # Lines to keep are shown; the countdown goes to the status line only.
    assert shown == [
        "Lost connection to the server.",
        "Could not reconnect: the connection was refused; is the server running?",
    ]
    assert [line.split(" (")[0] for line in status] == [
        "Reconnecting in 30 s",
        "Reconnecting in 20 s",
        "Reconnecting in 10 s",
        "Reconnecting in 5 s",
    ] * 2


class Unused:
    """
    A reactor for a LineUI whose input nobody reads.
    """

    def callFromThread(self, f: object, *args: object) -> None:
        pass


def test_a_pipe_prints_only_the_first_status_of_a_run():
    out = io.StringIO()
    read, write = socket.socketpair()
    try:
        ui = LineUI(Unused(), fd=read.fileno(), stdout=out)
        write.close()  # nothing to read: the reader thread ends at once
        ui.status("Reconnecting in 8 s (attempt 4 of 12; Ctrl-C leaves)...")
        ui.status("Reconnecting in 5 s (attempt 4 of 12; Ctrl-C leaves)...")
        ui.show("Could not reconnect: it did not answer in time.")
        ui.status("Reconnecting in 16 s (attempt 5 of 12; Ctrl-C leaves)...")
    finally:
        read.close()
    assert out.getvalue().splitlines() == [
        "Reconnecting in 8 s (attempt 4 of 12; Ctrl-C leaves)...",
        "Could not reconnect: it did not answer in time.",
        "Reconnecting in 16 s (attempt 5 of 12; Ctrl-C leaves)...",
    ]


@pytest.mark.parametrize(
    "failure, told",
    [
        (error.ConnectionRefusedError(), "the connection was refused; is the server running?"),
        (error.DNSLookupError("nowhere.invalid"), "there is no computer named nowhere.invalid."),
        (socket.gaierror(-2, "Name or service not known"), "there is no computer named"),
        (error.NoRouteError(), "there is no way to reach it from here; is the network up?"),
        (error.TCPTimedOutError(), "it did not answer in time."),
    ],
)
def test_why_a_connection_failed_as_a_sentence(failure, told):
    assert whyNotConnected(Failure(failure), "nowhere.invalid").startswith(told)


def test_a_refused_connection_is_told_as_a_sentence():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again before the client tries
    status, out = pipedClient(port, "alice", "")
    assert status == 1, out
    assert (
        f"Cannot connect to 127.0.0.1 port {port}: the connection was refused;"
        " is the server running?"
    ) in out, out
    assert "Connection was refused by other side" not in out


def _newUser(screen: Screen) -> None:
    screen.waitFor("Choose a password for alice:")
    screen.type(PASSWORD + "\r")
    screen.waitFor("Type the same password again:")
    screen.type(PASSWORD + "\r")
    screen.waitForPrompt("Operation [PM/DM/EX]:")


def test_ctrl_c_at_a_terminal_clears_then_leaves(server):
    alice = Screen("127.0.0.1", str(server.ports["TCP"]), "alice")
    try:
        _newUser(alice)
        alice.type("half a thought\x03")
        alice.waitForPrompt("Operation [PM/DM/EX]:")  # still here, on an empty line
        alice.pump(0.5)
        assert alice.child.isalive()
        assert "Bye." not in alice.lines()
        alice.type("\x03")
        alice.waitFor("Bye.")
        alice.child.expect(pexpect.EOF)
        alice.child.close()
        assert alice.child.exitstatus == 0
        assert "half a thought" not in server.log()
    finally:
        alice.child.close(force=True)


def test_no_stray_prompt_after_a_takeover(server):
    old = Screen("127.0.0.1", str(server.ports["TCP"]), "alice")
    new = None
    try:
        _newUser(old)
        old.type("half typed")
        new = Screen("127.0.0.1", str(server.ports["TCP"]), "alice")
        new.waitForPrompt("If that is you, end your other session and log in here? [y/N]:")
        new.type("y\r")
        new.waitForPrompt("Password:")
        new.type(PASSWORD + "\r")
        new.waitForPrompt("Operation [PM/DM/EX]:")
        old.waitFor("You logged in as alice somewhere else, which ended this session.")
        old.child.expect(pexpect.EOF)
        old.pump(0.5)
        assert old.lines()[-1] == (
            "You logged in as alice somewhere else, which ended this session."
        ), old.lines()
        assert not any("Operation" in line for line in old.lines()[-2:])
    finally:
        old.child.close(force=True)
        if new is not None:
            new.child.close(force=True)


def test_the_countdown_rewrites_its_line_and_failures_are_sentences(restartable):
    alice = Screen("127.0.0.1", str(restartable.ports["TCP"]), "alice")
    try:
        _newUser(alice)
        restartable.stop()
        alice.waitFor("The server is shutting down.")
        # The fourth attempt waits 8 s, counting down at 8 and 5 seconds left.
        alice.waitFor("Reconnecting in 5 s (attempt 4 of", seconds=30)
        lines = alice.lines()
        assert [line for line in lines if "attempt 4 of" in line] == [
            "Reconnecting in 5 s (attempt 4 of 12; Ctrl-C leaves)..."
        ], lines
        assert "Could not reconnect: the connection was refused; is the server running?" in lines
        assert not any("Connection was refused by other side" in line for line in lines)
        assert lines[-1] == "Operation [PM/DM/EX]:", lines
        alice.type("\x03")
        alice.waitFor("Bye.")
        alice.child.expect(pexpect.EOF)
    finally:
        alice.child.close(force=True)
