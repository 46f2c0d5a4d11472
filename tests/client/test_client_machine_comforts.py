"""
The client's conversation, the comforts of issue 13: one-line messages,
WHO and help, the arrival, times, pastes, editing at a terminal, colours.
"""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from helpers.machineview import NOW, View, clock, welcomed

from chatroom.client.machine import ClientMachine


def test_one_line_public_and_direct_messages():
    machine, view = welcomed()
    machine.answer("PM hello all")
    assert view.take() == (["C PM"], [], [])
    machine.frameReceived("C ACK PM")
    assert view.take() == (["D hello all"], [], [])  # no "Message:" asked
    machine.frameReceived("C OK PM 1")
    assert view.take()[1:] == (
        ["10:52 alice[TCP] (you) : hello all · Sent to 1 user."],
        [("Operation [PM/DM/EX]: ", False)],
    )
    machine.answer("dm bob see you")
    machine.frameReceived("C USERS alice:TCP bob:UDP")
    assert view.take() == (["C DM", "D bob see you"], [], [])  # no list, no "To:"
    machine.frameReceived("C OK DM bob STORED")
    assert view.take()[1] == [
        "10:52 alice[TCP] (direct to bob) : see you · Kept for bob, who is offline."
    ]


def test_dm_with_a_name_asks_only_for_the_message():
    machine, view = welcomed()
    machine.answer("DM bob")
    machine.frameReceived("C USERS alice:TCP bob:UDP")
    assert view.take() == (["C DM"], [], [("Message: ", False)])
    machine.answer("hi")
    assert view.take()[0] == ["D bob hi"]


def test_who_and_help():
    machine, view = welcomed()
    machine.answer("who")
    machine.frameReceived("C USERS + alice:TCP")
    machine.frameReceived("C USERS bob:UDP")
    assert view.take() == (
        ["C WHO"],
        ["10:52 Online now (2): alice[TCP] (you), bob[UDP]"],
        [("Operation [PM/DM/EX]: ", False)],
    )
    machine.answer("?")
    _sent, shown, asked = view.take()
    assert "PM <text>" in shown[0] and "WHO" in shown[0] and len(shown) == 1  # piped
    assert asked == [("Operation [PM/DM/EX]: ", False)]
    machine, view = welcomed(terminal=True)
    machine.answer("HELP")
    assert "offered as a public message" in view.take()[1][1]


def test_arrival_shows_who_history_then_kept_messages():
    """
    After WELCOME: who is online, the history marked as earlier with its
    times (local: UTC here), then the direct messages kept meanwhile; what
    happens during the arrival is shown after it; only then the prompt.
    """
    view = View()
    machine = ClientMachine(view, "alice", "TCP", clock=clock)
    machine.connected()
    machine.frameReceived("C WELCOME alice TCP Welcome alice, you are connected via TCP.")
    for frame in [
        "C INBOX 2",
        "D INBOX 2026-11-21T09:15:00.000Z bob UDP are you there?",
        "D INBOX 2026-11-20T23:59:59.999Z carol TCP call me",
        "C USERS alice:TCP bob:UDP",
        "D PM bob UDP live one",
        "C HISTORY 2",
        "D HISTORY 2026-11-21T10:40:01.000Z bob UDP first",
    ]:
        machine.frameReceived(frame)
    assert view.asked == []
    machine.frameReceived("D HISTORY 2026-11-21T10:41:00.500Z carol TCP second")
    sent, shown, asked = view.take()
    assert sent == ["C LOGIN alice", "C WHO", "C HISTORY 20"]
    assert shown == [
        "Welcome alice, you are connected via TCP.",
        "10:52 Online now (2): alice[TCP] (you), bob[UDP]",
        "10:40 (earlier) bob[UDP] : first",
        "10:41 (earlier) carol[TCP] : second",
        "2 direct messages came while you were away:",
        "09:15 bob[UDP] (direct) : are you there?",
        "2026-11-20 23:59 carol[TCP] (direct) : call me",
        "10:52 bob[UDP] : live one",
    ]
    assert asked == [("Operation [PM/DM/EX]: ", False)]


def test_arrival_at_a_server_without_history():
    """
    A version 1 server refuses C HISTORY: the client arrives without it.
    """
    view = View()
    machine = ClientMachine(view, "alice", "TCP", clock=clock)
    machine.connected()
    machine.frameReceived("C WELCOME alice TCP Welcome alice, you are connected via TCP.")
    machine.frameReceived("C USERS alice:TCP")
    machine.frameReceived("C ERR BAD_FRAME unknown command")
    _sent, shown, asked = view.take()
    assert len(shown) == 2 and asked == [("Operation [PM/DM/EX]: ", False)]


@pytest.mark.parametrize(
    "reason, told",
    [
        ("EXIT", "has left the chat."),
        ("CLOSED", "has left the chat (connection closed)."),
        ("TIMEOUT", "has left the chat (timed out)."),
        ("DROPPED", "has left the chat (dropped by the server)."),
        ("REPLACED", "has left the chat (logged in again)."),
        ("LATER", "has left the chat."),  # a reason of a later version
    ],
)
def test_departures_say_why(reason, told):
    machine, view = welcomed()
    machine.frameReceived(f"C LEAVE bob UDP {reason}")
    assert view.take()[1] == [f"10:52 bob [UDP] {told}"]


def test_times_are_local():
    plus3 = timezone(timedelta(hours=3))
    view = View()
    machine = ClientMachine(view, "alice", "TCP", clock=lambda: NOW.astimezone(plus3))
    machine.connected()
    machine.frameReceived("C WELCOME alice TCP Welcome")
    machine.frameReceived("C USERS alice:TCP")
    machine.frameReceived("C HISTORY 1")
    machine.frameReceived("D HISTORY 2026-11-21T10:40:01.000Z bob UDP first")
    machine.frameReceived("D PM bob UDP now")
    assert view.take()[1][-2:] == ["13:40 (earlier) bob[UDP] : first", "13:52 bob[UDP] : now"]


def test_a_paste_sends_one_message_per_line_in_order():
    machine, view = welcomed()
    machine.answer("PM")
    machine.frameReceived("C ACK PM")
    machine.answer("first\nsecond\n\nthird")  # a bracketed paste at "Message:"
    assert view.take()[0] == ["C PM", "D first"]
    machine.frameReceived("C OK PM 1")
    assert view.take()[0] == ["C PM"]
    machine.frameReceived("C ACK PM")
    machine.frameReceived("C OK PM 1")
    machine.frameReceived("C ACK PM")
    machine.frameReceived("C OK PM 1")
    sent, shown, asked = view.take()
    assert sent == ["D second", "C PM", "D third"]
    assert shown == [
        "10:52 alice[TCP] (you) : second · Sent to 1 user.",
        "10:52 alice[TCP] (you) : third · Sent to 1 user.",
    ]
    assert asked == [("Operation [PM/DM/EX]: ", False)]


def test_text_at_the_operation_prompt_is_offered_at_a_terminal():
    machine, view = welcomed(terminal=True)
    machine.answer("hello there")
    assert view.take() == ([], [], [("Send that to everyone? [Y/n]: ", False)])
    machine.answer("")
    assert view.take()[0] == ["C PM"]
    machine.frameReceived("C ACK PM")
    machine.frameReceived("C OK PM 0")
    assert view.take()[0] == ["D hello there"]
    machine.answer("oops")
    view.take()
    machine.answer("n")
    assert view.take() == ([], ["Not sent."], [("Operation [PM/DM/EX]: ", False)])
    machine.answer("one\ntwo")  # a paste at the operation prompt
    assert view.take()[2] == [("Send these 2 lines to everyone, one message each? [Y/n]: ", False)]
    machine.answer("y")
    machine.frameReceived("C ACK PM")
    machine.frameReceived("C OK PM 0")
    machine.frameReceived("C ACK PM")
    assert view.take()[0] == ["C PM", "D one", "C PM", "D two"]


def test_new_password_twice_at_a_terminal():
    view = View()
    machine = ClientMachine(view, "alice", "TCP", terminal=True)
    machine.connected()
    machine.frameReceived("C PASSWORD NEW")
    machine.answer("one")
    assert view.take() == (
        ["C LOGIN alice"],
        [],
        [("Choose a password for alice: ", True), ("Type the same password again: ", True)],
    )
    machine.answer("0ne")
    assert view.take() == (
        [],
        ["The passwords differ; please choose again."],
        [("Choose a password for alice: ", True)],
    )
    machine.answer("one")
    machine.answer("one")
    assert view.take()[0] == ["C PASS one"]


def test_ctrl_c_cancels_a_question_and_leaves_at_the_top():
    machine, view = welcomed(terminal=True)
    machine.answer("PM")
    machine.frameReceived("C ACK PM")
    assert view.take()[2] == [("Message: ", False)]
    machine.interrupted()
    assert view.take() == ([], ["Cancelled."], [("Operation [PM/DM/EX]: ", False)])
    machine.answer("DM")
    machine.frameReceived("C USERS alice:TCP bob:UDP")
    machine.interrupted()  # at "To:"
    assert view.take()[1:] == (
        ["Online: bob[UDP]", "Cancelled."],
        [("To: ", False), ("Operation [PM/DM/EX]: ", False)],
    )
    machine.interrupted()  # at the operation prompt: leave
    assert view.take()[0] == ["C EX"]


def test_an_over_long_message_is_kept_for_editing_at_a_terminal():
    machine, view = welcomed(terminal=True)
    machine.answer("PM " + "x" * 5000)
    sent, shown, asked = view.take()
    assert sent == [] and shown == ["That message is too long by 906 bytes."]
    assert asked == [("Message: ", False)] and view.defaults[-1] == "x" * 5000
    machine.answer("x" * 50)  # edited: a new C PM first, the server waits for none
    machine.frameReceived("C ACK PM")
    assert view.take()[0] == ["C PM", "D " + "x" * 50]


def test_ex_at_message_is_not_broadcast():
    machine, view = welcomed()
    machine.answer("PM")
    machine.frameReceived("C ACK PM")
    assert view.take()[2] == [("Message: ", False)]
    machine.answer("ex")
    sent, shown, asked = view.take()
    assert sent == [] and "cancels the message" in shown[0]
    assert asked == [("Operation [PM/DM/EX]: ", False)]


def test_an_empty_to_cancels():
    machine, view = welcomed()
    machine.answer("DM")
    machine.frameReceived("C USERS alice:TCP bob:UDP")
    view.take()
    machine.answer("")
    assert view.take() == (
        [],
        ["No one to write to: cancelled."],
        [("Operation [PM/DM/EX]: ", False)],
    )


def test_colours_only_when_painted():
    from chatroom.client.style import ansi, painterFor, plain

    class Tty:
        def isatty(self) -> bool:
            return True

    assert painterFor(Tty(), {}) is ansi
    assert painterFor(Tty(), {"NO_COLOR": "1"}) is plain
    assert painterFor(Tty(), {"TERM": "dumb"}) is plain
    view = View()
    machine = ClientMachine(view, "alice", "TCP", clock=clock, paint=ansi)
    machine.connected()
    machine.frameReceived("D DM bob UDP hi")
    assert view.shown == ["\x1b[2m10:52\x1b[0m bob[UDP] \x1b[1;35m(direct)\x1b[0m : hi"]
