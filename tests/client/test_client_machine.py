"""
The client's conversation, frame by frame and answer by answer: logging in,
the operations, what others do, errors and the way out.
"""

from __future__ import annotations

import pytest
from helpers.machineview import View, welcomed

from chatroom.client.machine import LEAVE_WORDS, ClientMachine


def test_registering():
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    assert view.take() == (["C LOGIN alice"], [], [])
    machine.frameReceived("C HELLO chatroom 1 TCP")
    machine.frameReceived("C PASSWORD NEW")
    assert view.take() == ([], [], [("Choose a password for alice: ", True)])
    machine.answer("correct horse")
    assert view.take() == (["C PASS correct horse"], [], [])
    machine.frameReceived("C WELCOME alice TCP Welcome alice, you are connected via TCP.")
    # Issue 13: on arrival, who is online and the recent history come first.
    assert view.take() == (
        ["C WHO", "C HISTORY 20"],
        ["Welcome alice, you are connected via TCP."],
        [],
    )
    machine.frameReceived("C USERS alice:TCP")
    machine.frameReceived("C HISTORY 0")
    _sent, shown, asked = view.take()
    assert shown[0].endswith("Online now (1): alice[TCP] (you)")
    assert asked == [("Operation [PM/DM/EX]: ", False)]


def test_existing_account_and_a_wrong_password_then_the_right_one():
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    machine.frameReceived("C PASSWORD EXISTING")
    assert view.take()[2] == [("Password: ", True)]
    machine.answer("wrong")
    machine.frameReceived("C ERR BAD_PASSWORD wrong password")
    # The protocol restarts a login from LOGIN; the user is simply asked again.
    assert view.take() == (["C PASS wrong", "C LOGIN alice"], ["Wrong password."], [])
    machine.frameReceived("C PASSWORD EXISTING")
    machine.answer("right")
    machine.frameReceived("C WELCOME alice TCP Welcome alice, you are connected via TCP.")
    machine.frameReceived("C USERS alice:TCP")
    machine.frameReceived("C HISTORY 0")
    sent, _shown, asked = view.take()
    assert sent == ["C PASS right", "C WHO", "C HISTORY 20"]
    assert asked[-1][0] == "Operation [PM/DM/EX]: "


def test_third_wrong_password_ends_it():
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    machine.frameReceived("C PASSWORD EXISTING")
    machine.answer("x")
    machine.frameReceived("C ERR BAD_PASSWORD wrong password; goodbye")
    machine.connectionLost()
    assert view.status == 1 and view.shown[-1] == "Wrong password, too many times."


def test_name_taken_asks_for_another():
    view = View()
    machine = ClientMachine(view, "alice", "UDP")
    machine.connected()
    machine.frameReceived("C ERR NAME_TAKEN alice is already in use")
    assert view.take() == (
        ["C LOGIN alice"],
        ["That username is already taken, please enter a different one."],
        [("Username: ", False)],
    )
    machine.answer("alicia")
    assert view.take() == (["C LOGIN alicia"], [], [])
    machine.frameReceived("C PASSWORD NEW")
    assert view.take()[2] == [("Choose a password for alicia: ", True)]


def test_public_message():
    machine, view = welcomed()
    machine.answer("pm")
    assert view.take() == (["C PM"], [], [])
    machine.frameReceived("C ACK PM")
    assert view.take() == ([], [], [("Message: ", False)])
    machine.answer("Hello everyone")
    machine.frameReceived("C OK PM 2")
    # Issue 13: your own message is echoed, marked and timed.
    assert view.take() == (
        ["D Hello everyone"],
        ["10:52 alice[TCP] (you) : Hello everyone · Sent to 2 users."],
        [("Operation [PM/DM/EX]: ", False)],
    )
    machine.answer("PM")
    machine.frameReceived("C ACK PM")
    machine.answer("one")
    machine.frameReceived("C OK PM 1")
    assert view.take()[1] == ["10:52 alice[TCP] (you) : one · Sent to 1 user."]


def test_direct_message_and_missing_target():
    machine, view = welcomed()
    machine.answer("Dm")
    machine.frameReceived("C USERS alice:TCP bob:UDP carol:TCP")
    assert view.take() == (["C DM"], ["Online: bob[UDP], carol[TCP]"], [("To: ", False)])
    machine.answer("bob")
    assert view.take()[2] == [("Message: ", False)]
    machine.answer("see you at five")
    machine.frameReceived("C OK DM bob")
    assert view.take()[:2] == (
        ["D bob see you at five"],
        ["10:52 alice[TCP] (direct to bob) : see you at five · Delivered to bob."],
    )
    machine.answer("DM")
    machine.frameReceived("C USERS alice:TCP bob:UDP")
    machine.answer("bob")
    machine.answer("still there?")
    machine.frameReceived("C ERR NO_SUCH_USER bob is not online")
    _sent, shown, asked = view.take()
    assert shown == ["Online: bob[UDP]", "bob is not online."]
    assert asked[-1] == ("Operation [PM/DM/EX]: ", False)


def test_a_user_list_in_several_frames():
    """
    1.1: C{C USERS + …} frames are gathered until the last C{C USERS …};
    only then is the list shown and the target asked for.
    """
    machine, view = welcomed()
    machine.answer("DM")
    machine.frameReceived("C USERS + alice:TCP bob:UDP")
    machine.frameReceived("C USERS + carol:TCP")
    assert view.take() == (["C DM"], [], [])
    machine.frameReceived("C USERS dave:UDP")
    assert view.take() == (
        [],
        ["Online: bob[UDP], carol[TCP], dave[UDP]"],
        [("To: ", False)],
    )
    # A list that arrives unasked is not shown, and not mixed into the next.
    machine.answer("dave")
    machine.frameReceived("C USERS + erin:TCP")
    machine.frameReceived("C USERS frank:TCP")
    machine.answer("hi")
    machine.frameReceived("C OK DM dave")
    machine.answer("DM")
    machine.frameReceived("C USERS alice:TCP gina:TCP")
    assert view.take()[1] == [
        "10:52 alice[TCP] (direct to dave) : hi · Delivered to dave.",
        "Online: gina[TCP]",
    ]


def test_nobody_else_online():
    machine, view = welcomed()
    machine.answer("DM")
    machine.frameReceived("C USERS alice:TCP")
    assert view.take() == (
        ["C DM"],
        ["Nobody else is online."],
        [("Operation [PM/DM/EX]: ", False)],
    )


@pytest.mark.parametrize("word", sorted(LEAVE_WORDS | {"EX", "Exit", "QUIT", "GÖRÜŞÜRÜZ"}))
def test_ways_to_leave(word):
    machine, view = welcomed()
    machine.answer(word)
    assert view.take()[0] == ["C EX"]
    machine.frameReceived("C BYE EXIT")
    assert view.status == 0 and view.shown == ["Bye."]


def test_end_of_input_leaves():
    machine, view = welcomed()
    machine.answer(None)
    assert view.take()[0] == ["C EX"]
    machine.connectionLost()  # the server closed before BYE came back
    assert view.status == 0


def test_unknown_operation_and_local_checks():
    machine, view = welcomed()
    machine.answer("shout")
    assert view.take() == (
        [],
        ["Unknown operation 'shout': type PM, DM or EX."],
        [("Operation [PM/DM/EX]: ", False)],
    )
    machine.answer("PM")
    machine.frameReceived("C ACK PM")
    machine.answer("")
    assert view.take()[1] == ["Empty messages are not sent."]
    machine.answer("PM")
    machine.frameReceived("C ACK PM")
    machine.answer("x" * 5000)
    assert view.take()[1] == ["That message is too long by 906 bytes."]
    machine.answer("PM")
    machine.frameReceived("C ACK PM")
    machine.answer("\x1b[2J")
    sent, shown, _ = view.take()
    assert sent == ["C PM"] and shown == ["Messages cannot contain control characters."]


def test_what_others_do_is_shown():
    machine, view = welcomed()
    for frame in [
        "D PM bob UDP hi all",
        "D DM bob UDP hi alice",
        "C JOIN carol TCP",
        "C LEAVE carol TCP CLOSED",
    ]:
        machine.frameReceived(frame)
    # Issue 13: times, a join notice that reads naturally, departures say why.
    assert view.take()[1] == [
        "10:52 bob[UDP] : hi all",
        "10:52 bob[UDP] (direct) : hi alice",
        "10:52 carol [TCP] has joined the chat.",
        "10:52 carol [TCP] has left the chat (connection closed).",
    ]


def test_errors_in_plain_words():
    machine, view = welcomed()
    machine.answer("PM")
    machine.frameReceived("C ERR RATE slow down")
    _sent, shown, asked = view.take()
    assert "too fast" in shown[0] and asked == [("Operation [PM/DM/EX]: ", False)]


def test_server_shutdown_and_lost_connection():
    machine, view = welcomed()
    machine.frameReceived("C BYE SHUTDOWN")
    assert view.shown == ["The server is shutting down."] and view.status == 0
    machine, view = welcomed()
    machine.connectionLost()
    assert view.shown == ["Lost connection to the server."] and view.status == 1


def test_full_server():
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    machine.frameReceived("C ERR FULL the server is full, try later")
    assert view.status == 1 and "full" in view.shown[-1]


def test_an_unavailable_database_ends_the_login():
    """
    C{ERR UNAVAILABLE} (1.1) while logging in: say so and stop, rather than
    start the login again straight into the same trouble.
    """
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    machine.frameReceived("C ERR UNAVAILABLE the account database is busy right now")
    assert view.status == 1 and "try again later" in view.shown[-1]
    assert view.sent == ["C LOGIN alice"]


def test_a_slow_password_logs_in_again_unnoticed():
    """
    The server closes a login left unfinished for 30 s; the password typed
    after that is used on a new session, without asking again.
    """
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    machine.frameReceived("C PASSWORD EXISTING")
    view.take()
    machine.frameReceived("C ERR STATE login timed out")
    machine.connectionLost()
    assert view.take() == ([], [], []) and view.status is None
    machine.answer("slowly typed")
    assert view.reconnects == 1
    machine.connected()
    machine.frameReceived("C HELLO chatroom 1 TCP")
    machine.frameReceived("C PASSWORD EXISTING")
    assert view.take() == (["C LOGIN alice", "C PASS slowly typed"], [], [])
    machine.frameReceived("C WELCOME alice TCP Welcome alice, you are connected via TCP.")
    assert view.take()[1] == ["Welcome alice, you are connected via TCP."]


def test_a_failed_login_step_starts_the_login_again():
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    machine.frameReceived("C PASSWORD EXISTING")
    machine.answer("pw\twith tab")
    machine.frameReceived("C ERR STATE the server failed to handle that, try again")
    sent, shown, _asked = view.take()
    assert sent == ["C LOGIN alice", "C PASS pw\twith tab", "C LOGIN alice"]
    assert shown == ["The server said: the server failed to handle that, try again."]
    machine.frameReceived("C PASSWORD EXISTING")
    assert view.take()[2] == [("Password: ", True)]


# The client decides by codes and its own state, never by the server's text.


def test_login_deadline_is_told_by_code_and_state_not_text():
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    machine.frameReceived("C PASSWORD EXISTING")
    view.take()
    machine.frameReceived("C ERR STATE any words at all")  # at the prompt: the deadline
    machine.connectionLost()
    assert view.take() == ([], [], []) and view.status is None
    machine.answer("typed")
    assert view.reconnects == 1


def test_third_wrong_password_is_told_by_the_close_not_text():
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    for attempt in range(3):
        machine.frameReceived("C PASSWORD EXISTING")
        machine.answer(f"wrong{attempt}")
        machine.frameReceived("C ERR BAD_PASSWORD nein")
    assert view.shown == ["Wrong password."] * 3 and view.status is None
    machine.connectionLost()
    assert view.status == 1 and view.shown[-1] == "Wrong password, too many times."


def test_a_refused_new_password_shows_why():
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    machine.frameReceived("C PASSWORD NEW")
    machine.answer("x" * 300)
    machine.frameReceived("C ERR BAD_PASSWORD choose 1 to 256 characters")
    sent, shown, _asked = view.take()
    assert shown == ["Choose 1 to 256 characters."] and sent[-1] == "C LOGIN alice"


def test_name_taken_at_a_terminal_offers_to_end_the_other_session():
    view = View()
    machine = ClientMachine(view, "alice", "TCP", offerGhost=True)
    machine.connected()
    machine.frameReceived("C ERR NAME_TAKEN alice is already in use")
    offer = "If that is you, end your other session and log in here? [y/N]: "
    assert view.take() == (
        ["C LOGIN alice"],
        ["The username alice is already in use."],
        [(offer, False)],
    )
    machine.answer("y")
    assert view.take() == (["C LOGIN alice GHOST"], [], [])
    machine.frameReceived("C PASSWORD EXISTING")
    machine.answer("wrong")
    machine.frameReceived("C ERR BAD_PASSWORD wrong password")
    # Asked again, still replacing: a wrong password starts over from LOGIN.
    assert view.take()[0] == ["C PASS wrong", "C LOGIN alice GHOST"]
    machine.frameReceived("C PASSWORD EXISTING")
    machine.answer("right")
    machine.frameReceived("C WELCOME alice TCP Welcome alice, you are connected via TCP.")
    assert view.take()[0] == ["C PASS right", "C WHO", "C HISTORY 20"]


def test_refusing_the_offer_or_a_refused_ghost_asks_for_another_name():
    view = View()
    machine = ClientMachine(view, "alice", "TCP", offerGhost=True)
    machine.connected()
    machine.frameReceived("C ERR NAME_TAKEN alice is already in use")
    view.take()
    machine.answer("")  # the default: no
    assert view.take() == ([], ["Please enter a different username."], [("Username: ", False)])
    machine.answer("alice")
    machine.frameReceived("C ERR NAME_TAKEN alice is already in use")
    machine.answer("yes")
    assert view.take()[0] == ["C LOGIN alice", "C LOGIN alice GHOST"]
    # A look-alike of another user's name: GHOST cannot help; no second offer.
    machine.frameReceived("C ERR NAME_TAKEN alice looks like aIice, already in use")
    assert view.take() == (
        [],
        ["That username is already taken, please enter a different one."],
        [("Username: ", False)],
    )


def test_piped_input_asks_for_a_name_and_ghost_only_when_told():
    view = View()
    machine = ClientMachine(view, "alice", "TCP")
    machine.connected()
    machine.frameReceived("C ERR NAME_TAKEN alice is already in use")
    assert view.take()[2] == [("Username: ", False)]  # as in version 1
    machine.answer("!GHOST")
    assert view.take() == (["C LOGIN alice GHOST"], [], [])


def test_replaced_tells_the_user_and_exits():
    machine, view = welcomed()
    machine.frameReceived("C LEAVE bob UDP REPLACED")
    machine.frameReceived("C JOIN bob TCP")
    machine.frameReceived("C BYE REPLACED")
    machine.connectionLost()
    assert view.take()[1] == [
        "10:52 bob [UDP] has left the chat (logged in again).",
        "10:52 bob [TCP] has joined the chat.",
        "You logged in as alice somewhere else, which ended this session.",
    ]
    assert view.status == 0
