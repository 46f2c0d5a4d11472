"""
Coming back after a lost session, without I/O: the backoff schedule on a
fake clock, what counts as missed in the history, and the machine's
answers while away.
"""

from __future__ import annotations

from helpers.machineview import View
from twisted.internet.task import Clock

from chatroom.client.catchup import Said, missed
from chatroom.client.machine import OPERATION, PM_TEXT, ClientMachine
from chatroom.client.reconnect import Backoff, Reconnector


def test_the_backoff_doubles_up_to_its_cap_and_ends():
    backoff = Backoff()
    delays = [backoff.delay(n) for n in range(13)]
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30, 30, 30, None]
    assert sum(d for d in delays if d) < 300  # bounded: about four minutes


class Tries:
    def __init__(self, attempts: int = 3) -> None:
        self.clock = Clock()
        self.shown: list[str] = []
        self.tries: list[float] = []
        self.gaveUp: list[str] = []
        self.reconnector = Reconnector(
            self.clock,
            self.shown.append,
            lambda: self.tries.append(self.clock.seconds()),
            self.gaveUp.append,
            Backoff(first=1, cap=30, attempts=attempts),
        )


def test_attempts_follow_the_schedule_with_a_countdown_then_give_up():
    t = Tries(attempts=6)
    t.reconnector.lost("Lost connection to the server.")
    assert t.shown == [
        "Lost connection to the server.",
        "Reconnecting in 1 s (attempt 1 of 6; Ctrl-C leaves)...",
    ]
    for _ in range(5):
        before = len(t.tries)
        while len(t.tries) == before:
            t.clock.advance(0.5)
        t.reconnector.lost("Connection refused")  # each attempt fails at once
    assert t.tries == [1, 3, 7, 15, 31]  # after waits of 1, 2, 4, 8 and 16 s
    before = len(t.tries)
    while len(t.tries) == before:
        t.clock.advance(0.5)
    # A 30 s wait counts down at 30, 20, 10 and 5 seconds left.
    countdown = [line for line in t.shown if "attempt 6 of 6" in line]
    assert [line.split(" s ")[0] for line in countdown] == [
        "Reconnecting in 30",
        "Reconnecting in 20",
        "Reconnecting in 10",
        "Reconnecting in 5",
    ]
    t.reconnector.lost("Connection refused")
    assert t.gaveUp and "after 6 attempts" in t.gaveUp[0]
    assert not t.clock.getDelayedCalls()


def test_success_and_stop_leave_no_call_behind():
    t = Tries()
    t.reconnector.lost("Lost.")
    t.clock.advance(1)
    assert t.tries == [1]
    t.clock.advance(2)
    assert t.reconnector.succeeded() == 3
    assert not t.reconnector.active and not t.clock.getDelayedCalls()
    t.reconnector.lost("Lost again.")  # a new loss starts the schedule again
    assert t.shown[-1].startswith("Reconnecting in 1 s (attempt 1 of")
    t.reconnector.stop()  # Ctrl-C during the countdown
    assert not t.clock.getDelayedCalls()


def said(when: float, sender: str, text: str) -> Said:
    return Said(when, sender, "TCP", text)


def test_missed_is_what_follows_the_last_messages_seen():
    history = [
        said(100, "bob", "ok"),
        said(101, "alice", "see you"),
        said(102, "bob", "ok"),
        said(150, "bob", "ok"),
        said(151, "carol", "hello"),
    ]
    seen = [said(100.4, "bob", "ok"), said(101.2, "alice", "see you"), said(102.3, "bob", "ok")]
    # The "ok" said again while away is not taken for the one seen.
    assert missed(history, seen, lostAt=110) == history[3:]
    assert missed(history, [said(151.1, "Carol", "hello")], lostAt=160) == []


def test_missed_compares_times_too_and_prefers_a_repeat_to_a_loss():
    history = [said(100, "bob", "ok"), said(5000, "bob", "ok"), said(5001, "bob", "new")]
    # Seen at 5000, not the "ok" of 100 (too far apart in time).
    assert missed(history, [said(5000.5, "bob", "ok")], lostAt=5000.6) == history[2:]
    # The last message seen fell out of the history: everything newer is shown.
    assert missed(history[1:], [said(99, "dan", "gone")], lostAt=200) == history[1:]
    # Nothing seen: what came after the loss.
    assert missed(history, [], lostAt=4000) == history[1:]


def loggedIn() -> tuple[ClientMachine, View]:
    view = View(comesBack=True)
    machine = ClientMachine(view, "alice", "TCP")
    machine.comesBack = True
    machine.connected()
    machine.frameReceived("C HELLO chatroom 1 TCP")
    machine.frameReceived("C PASSWORD NEW")
    machine.answer("s3cret")
    machine.frameReceived("C WELCOME alice TCP Welcome alice, you are connected via TCP.")
    arrive(machine, "C HISTORY 0")
    return machine, view


def arrive(machine: ClientMachine, *history: str) -> None:
    """
    The server's answers to the arrival's C WHO and C HISTORY.
    """
    machine.frameReceived("C USERS alice:TCP bob:TCP")
    for frame in history:
        machine.frameReceived(frame)


def test_the_machine_logs_in_again_with_ghost_and_the_held_password():
    machine, view = loggedIn()
    machine.answer("PM")
    machine.frameReceived("C ACK PM")
    machine.frameReceived("C BYE SHUTDOWN")
    assert view.wentAway == ["The server is shutting down."] and view.status is None
    assert machine.away and machine.state == PM_TEXT  # the prompt stays
    view.sent.clear()
    machine.answer("typed while away")
    assert view.sent == [] and "not sent" in view.shown[-1] and view.asked[-1][0] == "Message: "
    machine.connected()
    machine.frameReceived("C HELLO chatroom 1 TCP")
    machine.frameReceived("C PASSWORD EXISTING")
    machine.frameReceived("C WELCOME alice TCP Welcome alice, you are connected via TCP.")
    # One arrival, as on the first login, with a longer history to find the gap.
    assert view.sent == ["C LOGIN alice GHOST", "C PASS s3cret", "C WHO", "C HISTORY 100"]
    assert view.backs == 1 and machine.away  # typing waits for the arrival
    arrive(machine, "C HISTORY 0")
    assert not machine.away and machine.state == PM_TEXT
    # The message typed now starts its operation anew on the new session.
    view.sent.clear()
    machine.answer("hello again")
    machine.frameReceived("C ACK PM")
    assert view.sent == ["C PM", "D hello again"]


def test_a_refused_login_while_away_is_a_failed_attempt_or_the_end():
    machine, view = loggedIn()
    machine.connectionLost()
    machine.connected()
    machine.frameReceived("C ERR NAME_TAKEN alice is already in use")
    assert view.wentAway == ["Lost connection to the server.", "alice is already in use"]
    assert machine.state != "DONE"
    machine.connected()
    machine.frameReceived("C PASSWORD EXISTING")
    machine.frameReceived("C ERR BAD_PASSWORD wrong password")
    assert view.status == 1 and "Could not log in again" in view.shown[-1]


def test_without_comes_back_a_lost_session_ends_as_before():
    machine, view = loggedIn()
    machine.comesBack = False
    machine.frameReceived("C BYE SHUTDOWN")
    assert view.status == 0 and view.wentAway == []


def test_leaving_while_away_says_bye():
    machine, view = loggedIn()
    machine.connectionLost()
    assert machine.state == OPERATION
    machine.answer("EX")
    assert view.status == 0 and view.shown[-1] == "Bye."


def comeBack(machine: ClientMachine, view: View) -> None:
    """
    A new session after a loss, up to the arrival's questions.
    """
    machine.connected()
    machine.frameReceived("C HELLO chatroom 1 TCP")
    machine.frameReceived("C PASSWORD EXISTING")
    machine.frameReceived("C WELCOME alice TCP Welcome alice, you are connected via TCP.")


def test_a_message_not_yet_sent_when_the_session_is_lost_is_kept():
    view = View(comesBack=True)
    machine = ClientMachine(view, "alice", "TCP", terminal=True)
    machine.comesBack = True
    machine.connected()
    machine.frameReceived("C PASSWORD EXISTING")
    machine.answer("s3cret")
    machine.frameReceived("C WELCOME alice TCP Welcome alice.")
    arrive(machine, "C HISTORY 0")
    machine.answer("PM see you at five")
    assert view.sent[-1] == "C PM"
    machine.connectionLost()  # before C ACK PM: the D frame was never sent
    assert "not sent" in view.shown[-1] and view.asked[-1][0] == "Message: "
    assert machine.state == PM_TEXT
    comeBack(machine, view)
    arrive(machine, "C HISTORY 0")
    view.sent.clear()
    machine.answer("see you at five")  # the kept text, sent as it is
    machine.frameReceived("C ACK PM")
    assert view.sent == ["C PM", "D see you at five"]


def test_ctrl_c_while_away_cancels_a_question_then_leaves():
    machine, view = loggedIn()
    machine.answer("PM")
    machine.frameReceived("C ACK PM")
    machine.connectionLost()
    machine.interrupted()
    assert view.shown[-1] == "Cancelled." and view.asked[-1][0] == "Operation [PM/DM/EX]: "
    comeBack(machine, view)
    arrive(machine, "C HISTORY 0")
    assert machine.state == OPERATION
    machine.connectionLost()
    machine.interrupted()
    assert view.status == 0 and view.shown[-1] == "Bye."


def test_a_session_lost_during_the_first_arrival_shows_what_it_held():
    view = View(comesBack=True)
    machine = ClientMachine(view, "alice", "TCP")
    machine.comesBack = True
    machine.connected()
    machine.frameReceived("C PASSWORD EXISTING")
    machine.answer("s3cret")
    machine.frameReceived("C WELCOME alice TCP Welcome alice.")
    machine.frameReceived("D PM bob TCP are you there?")  # held until the arrival
    machine.connectionLost()
    assert any("bob[TCP] : are you there?" in line for line in view.shown)
    assert view.asked[-1][0] == "Operation [PM/DM/EX]: " and machine.away


def test_coming_back_to_a_server_without_history_says_so():
    machine, view = loggedIn()
    machine.connectionLost()
    comeBack(machine, view)
    machine.frameReceived("C USERS alice:TCP")
    machine.frameReceived("C ERR BAD_FRAME unknown command HISTORY")
    assert "keeps no history" in view.shown[-1]
    assert not machine.away and machine.state == OPERATION
