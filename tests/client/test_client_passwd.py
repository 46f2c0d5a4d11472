"""
Changing one's own password in chatclient (C{PASSWD}, protocol 1.2), frame
by frame and answer by answer: the old password, then the new one twice,
never echoed; refusals, Ctrl-C, the session lost meanwhile.
"""

from __future__ import annotations

from helpers.machineview import OPERATION, View, welcomed

from chatroom.client.machine import ClientMachine


def change(machine: ClientMachine, view: View, old: str, *new: str) -> None:
    machine.answer("PASSWD")
    assert view.take() == (["C PASSWD"], [], [])
    machine.frameReceived("C PASSWORD EXISTING")
    assert view.take() == ([], [], [("Current password: ", True)])
    machine.answer(old)
    assert view.take() == ([f"C PASS {old}"], [], [])
    machine.frameReceived("C PASSWORD NEW")
    assert view.take() == ([], [], [("New password: ", True)])
    for typed in new:
        machine.answer(typed)


def test_passwd_asks_old_then_new_twice_without_echo():
    machine, view = welcomed(comesBack=True)
    change(machine, view, "old secret", "new secret")
    assert view.take() == ([], [], [("Type the same password again: ", True)])
    machine.answer("new secreT")
    assert view.take() == (
        [],
        ["The passwords differ; please choose again."],
        [("New password: ", True)],
    )
    machine.answer("")
    assert view.take()[1:] == (["The password cannot be empty."], [("New password: ", True)])
    machine.answer("new secret")
    machine.answer("new secret")
    assert view.take() == (["C PASS new secret"], [], [("Type the same password again: ", True)])
    machine.frameReceived("C OK PASSWD")
    assert view.take() == (
        [],
        ["Your password is changed; use the new one from now on."],
        [OPERATION],
    )
    # Coming back after a lost session logs in with the new password.
    machine.connectionLost()
    machine.connected()
    machine.frameReceived("C PASSWORD EXISTING")
    assert view.take()[0] == ["C LOGIN alice GHOST", "C PASS new secret"]


def test_passwd_wrong_old_password_or_refused_new_one():
    machine, view = welcomed()
    machine.answer("PASSWD")
    machine.frameReceived("C PASSWORD EXISTING")
    machine.answer("guess")
    machine.frameReceived("C ERR BAD_PASSWORD wrong password")
    # Not a login: nothing is sent again, the session goes on.
    assert view.take() == (
        ["C PASSWD", "C PASS guess"],
        ["Wrong password: your password was not changed."],
        [("Current password: ", True), OPERATION],
    )
    change(machine, view, "old secret", "x" * 300, "x" * 300)
    machine.frameReceived("C ERR BAD_PASSWORD password too long")
    assert view.take()[1:] == (
        ["The new password was refused (password too long): your password was not changed."],
        [("Type the same password again: ", True), OPERATION],
    )


def test_passwd_cancelled_with_ctrl_c():
    machine, view = welcomed(terminal=True)
    change(machine, view, "old secret", "half")
    assert view.take()[2] == [("Type the same password again: ", True)]
    machine.interrupted()
    assert view.take() == (
        [],
        ["Cancelled: your password was not changed."],
        [OPERATION],
    )
    assert machine._newPassword is None
    machine.frameReceived("C OK PASSWD")  # late, not ours: nothing happens
    assert view.take() == ([], [], [])


def test_moderation_and_passwd_lost_with_the_session():
    machine, view = welcomed(comesBack=True)
    machine.answer("PASSWD")
    machine.frameReceived("C PASSWORD EXISTING")
    machine.answer("old secret")
    view.take()
    machine.connectionLost()
    assert view.take()[1:] == (["Not connected: that was not done."], [OPERATION])


def test_passwd_third_wrong_password_ends_the_client():
    """
    The server closes the session at the third wrong password, as at
    login: the client says so and ends, and does not come back by itself.
    """
    machine, view = welcomed(comesBack=True)
    for _attempt in range(3):
        machine.answer("PASSWD")
        machine.frameReceived("C PASSWORD EXISTING")
        machine.answer("guess")
    machine.frameReceived("C ERR BAD_PASSWORD wrong password; goodbye")
    machine.connectionLost()
    assert view.take()[1][-2:] == [
        "Wrong password: your password was not changed.",
        "Wrong password, too many times.",
    ]
    assert view.status == 1 and view.wentAway == []
