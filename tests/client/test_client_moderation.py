"""
Moderation in chatclient (protocol 1.2, section 11), frame by frame and
answer by answer: the verbs typed as one-line operations, the room's
C{C MOD} notices as sentences in local time, the list of bans, the
refusals a moderated user meets, a kick or a ban ending the client, and
changing one's own password (C{PASSWD}).
"""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from helpers.machineview import NOW, OPERATION, View, welcomed

from chatroom.client import text
from chatroom.client.machine import ClientMachine
from chatroom.client.moderation import Misuse, moderationFrame

#: The machine's clock (10:52 UTC) is shown as 12:52 in a zone two hours east.
EAST = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    "typed, frame",
    [
        ("KICK bob", "C KICK bob"),
        ("kick bob  spamming   links ", "C KICK bob spamming   links"),
        ("BAN bob 1h flooding", "C BAN bob 1h flooding"),
        ("ban @bob FOREVER", "C BAN bob forever"),
        ("MUTE bob 10m", "C MUTE bob 10m"),
        ("MUTE bob 7d calm down", "C MUTE bob 7d calm down"),
        ("UNBAN bob", "C UNBAN bob"),
        ("unmute bob", "C UNMUTE bob"),
        ("SLOW 30", "C SLOW 30"),
        ("SLOW 0", "C SLOW 0"),
        ("slow off", "C SLOW 0"),
        ("ROLE bob moderator", "C ROLE bob moderator"),
        ("ROLE bob User", "C ROLE bob user"),
        ("BANS", "C BANS"),
        ("KICK ｂｏｂ", "C KICK bob"),  # typed as at login (NFKC)
    ],
)
def test_verbs_typed_on_one_line(typed, frame):
    machine, view = welcomed()
    machine.answer(typed)
    assert view.take() == ([frame], [], [])


@pytest.mark.parametrize(
    "typed, told",
    [
        ("KICK", "Type it as: KICK <name> [reason]"),
        ("BAN bob", "Type it as: BAN <name> <duration> [reason]"),
        ("BAN bob 1w", "'1w' is not a duration"),
        ("MUTE bob 0m", "'0m' is not a duration"),
        ("MUTE bob soon please", "'soon' is not a duration"),
        ("UNBAN", "Type it as: UNBAN <name>"),
        ("UNBAN bob now", "Type it as: UNBAN <name>"),
        ("SLOW", "Type it as: SLOW <seconds> (SLOW 0 turns it off)"),
        ("SLOW -5", "Type it as: SLOW"),
        ("SLOW fast", "Type it as: SLOW"),
        ("ROLE bob admin", "Type it as: ROLE <name> user|moderator"),
        ("ROLE bob", "Type it as: ROLE"),
        ("BANS bob", "Type it as: BANS"),
    ],
)
def test_verbs_typed_wrong_are_explained_and_not_sent(typed, told):
    machine, view = welcomed(terminal=True)
    machine.answer(typed)
    sent, shown, asked = view.take()
    assert sent == [] and told in shown[0] and asked == [OPERATION], shown
    with pytest.raises(Misuse):
        verb, _space, rest = typed.partition(" ")
        moderationFrame(verb.upper(), rest)


def test_help_lists_the_verbs_for_staff_only():
    machine, view = welcomed(users="alice:TCP bob:TCP")
    machine.answer("HELP")
    shown = view.take()[1]
    assert "PASSWD" in shown[0]  # everyone may change their own password
    assert not any("KICK" in line for line in shown)
    # The "@" before our own name in C USERS says we are staff.
    machine, view = welcomed(users="@alice:TCP bob:TCP")
    machine.answer("?")
    shown = view.take()[1]
    assert any("KICK <name> [reason]" in line and "BANS" in line for line in shown), shown
    # A C MOD ROLE about us changes it both ways; about others, not.
    machine.frameReceived("C MOD ROLE alice root user")
    machine.answer("?")
    assert not any("KICK" in line for line in view.take()[1])
    machine.frameReceived("C MOD ROLE bob root moderator")
    machine.answer("?")
    assert not any("KICK" in line for line in view.take()[1])
    machine.frameReceived("C MOD ROLE Alice root moderator")
    machine.answer("?")
    assert any("KICK" in line for line in view.take()[1])


def test_staff_marked_in_who_and_in_the_dm_list():
    machine, view = welcomed(users="alice:TCP")
    machine.answer("WHO")
    machine.frameReceived("C USERS @alice:TCP @bob:UDP carol:WEB")
    assert view.take()[1] == [
        "10:52 Online now (3): @alice[TCP] (you), @bob[UDP], carol[WEB] (@: moderator or admin)"
    ]
    assert machine.staff  # the list said so
    machine.answer("DM")
    machine.frameReceived("C USERS @alice:TCP @bob:UDP carol:WEB")
    assert view.take()[1] == ["Online: @bob[UDP], carol[WEB]"]
    machine.answer("@bob")  # copied with its mark: the name is bob
    machine.answer("hi")
    machine.frameReceived("C USERS @alice:TCP @bob:UDP carol:WEB")
    assert view.take()[0] == ["D bob hi"]


@pytest.mark.parametrize(
    "frame, told",
    [
        (
            "C MOD BAN bob alice 2026-11-21T12:52:00.000Z flooding",
            "12:52 bob was banned by alice until 14:52: flooding",
        ),
        ("C MOD BAN bob alice - ", "12:52 bob was banned by alice for good."),
        ("C MOD BAN bob alice -", "12:52 bob was banned by alice for good."),
        (
            "C MOD BAN bob alice 2026-11-23T08:00:00.000Z",
            "12:52 bob was banned by alice until 2026-11-23 10:00.",
        ),
        ("C MOD KICK bob alice - go cool off", "12:52 bob was kicked out by alice: go cool off"),
        ("C MOD UNBAN bob alice -", "12:52 alice lifted the ban on bob."),
        (
            "C MOD MUTE bob alice 2026-11-21T11:02:30.000Z",
            "12:52 bob was muted by alice until 13:02.",
        ),
        (
            "C MOD MUTE bob alice - shouting",
            "12:52 bob was muted by alice until further notice: shouting",
        ),
        ("C MOD UNMUTE bob alice -", "12:52 alice lifted the mute on bob."),
        (
            "C MOD SLOW 30 alice -",
            "12:52 alice turned on slow mode: one public message per 30 seconds.",
        ),
        (
            "C MOD SLOW 1 alice -",
            "12:52 alice turned on slow mode: one public message per 1 second.",
        ),
        ("C MOD SLOW 0 alice -", "12:52 alice turned slow mode off."),
        ("C MOD ROLE bob alice moderator", "12:52 alice made bob a moderator."),
        ("C MOD ROLE bob alice user", "12:52 alice made bob a user."),
        ("C MOD ROLE bob root admin", "12:52 root made bob an admin."),
        ("C MOD ZAP bob alice -", "12:52 alice did ZAP to bob."),
    ],
)
def test_mod_notices_as_sentences_in_local_time(frame, told):
    machine, view = welcomed(zone=EAST)
    machine.frameReceived(frame)
    assert view.take() == ([], [told], [])


def test_mod_notices_during_the_arrival_wait_for_it():
    view = View()
    machine = ClientMachine(view, "alice", "TCP", clock=lambda: NOW)
    machine.connected()
    machine.frameReceived("C WELCOME alice TCP Welcome alice, you are connected via TCP.")
    machine.frameReceived("C MOD KICK bob carol -")
    machine.frameReceived("C USERS alice:TCP")
    machine.frameReceived("C HISTORY 0")
    shown = view.take()[1]
    assert shown[-1] == "10:52 bob was kicked out by carol." and "Online now" in shown[-2]


def test_ok_brings_the_prompt_back_and_errors_are_explained():
    machine, view = welcomed(users="@alice:TCP")
    machine.answer("KICK bob")
    machine.frameReceived("C MOD KICK bob alice -")
    machine.frameReceived("C OK KICK bob")
    assert view.take() == (["C KICK bob"], ["10:52 bob was kicked out by alice."], [OPERATION])
    machine.answer("BAN nobody 1h")
    machine.frameReceived("C ERR NO_SUCH_USER no such user")
    assert view.take()[1:] == (["There is no account named nobody."], [OPERATION])
    machine.answer("KICK root")
    machine.frameReceived("C ERR DENIED not allowed")
    shown = view.take()[1]
    assert shown == [
        "You may not do that: moderators act on users, admins on users and moderators,"
        " and nobody on an admin or on themselves."
    ]
    machine.answer("SLOW 30")
    machine.frameReceived("C OK SLOW 30")
    assert view.take() == (["C SLOW 30"], [], [OPERATION])


def test_the_list_of_bans():
    machine, view = welcomed(users="@alice:TCP", zone=EAST)
    machine.answer("BANS")
    machine.frameReceived("C BANS 3")
    machine.frameReceived("D BAN bob MUTE alice 2026-11-21T11:02:30.000Z")
    machine.frameReceived("D BAN carol BAN alice 2026-11-21T12:52:00.000Z flooding the room")
    assert view.take() == (["C BANS"], [], [])  # shown once complete
    machine.frameReceived("D BAN dave BAN root - spam")
    assert view.take() == (
        [],
        [
            "3 bans and mutes in force, soonest end first:",
            "  bob: muted by alice until 13:02.",
            "  carol: banned by alice until 14:52: flooding the room",
            "  dave: banned by root for good: spam",
        ],
        [OPERATION],
    )
    machine.answer("BANS")
    machine.frameReceived("C BANS 0")
    assert view.take() == (["C BANS"], ["No bans or mutes are in force."], [OPERATION])
    machine.answer("BANS")
    machine.frameReceived("C ERR DENIED not allowed")
    assert view.take()[1][0].startswith("You may not do that")


def test_muted_and_slowed_messages_are_explained():
    machine, view = welcomed(zone=EAST)
    machine.answer("PM hello")
    machine.frameReceived("C ACK PM")
    machine.frameReceived("C ERR MUTED 2026-11-21T12:52:00.000Z")
    assert view.take() == (
        ["C PM", "D hello"],
        ["You are muted until 14:52; your message was not sent."],
        [OPERATION],
    )
    machine.answer("DM bob hi")
    machine.frameReceived("C USERS alice:TCP bob:TCP")
    machine.frameReceived("C ERR MUTED -")
    assert view.take()[1] == ["You are muted; your message was not sent."]
    machine.answer("PM again")
    machine.frameReceived("C ACK PM")
    machine.frameReceived("C ERR SLOW 12")
    assert view.take()[1] == [
        "Slow mode is on: wait 12 seconds before your next message; this one was not sent."
    ]


def test_a_slowed_message_is_kept_for_editing_at_a_terminal():
    machine, view = welcomed(terminal=True)
    machine.answer("PM wait for it")
    machine.frameReceived("C ACK PM")
    machine.frameReceived("C ERR SLOW 1")
    assert view.take()[1:] == (
        ["Slow mode is on: wait 1 second before your next message; this one was not sent."],
        [("Message: ", False)],
    )
    assert view.take() == ([], [], [])


def test_kicked_and_banned_end_the_client_without_coming_back():
    for reason, told in [
        ("KICKED", "You were kicked out of the room. You may come back: start chatclient again."),
        ("BANNED", "You are banned from this room, so chatclient ends here."),
    ]:
        machine, view = welcomed(comesBack=True)
        machine.frameReceived(f"C BYE {reason}")
        machine.connectionLost()
        assert view.take()[1] == [told]
        assert view.status == 1 and view.wentAway == []


def test_others_leaving_kicked_or_banned():
    machine, view = welcomed()
    machine.frameReceived("C LEAVE bob UDP KICKED")
    machine.frameReceived("C LEAVE carol WEB BANNED")
    assert view.take()[1] == [
        "10:52 bob [UDP] has left the chat (kicked out by a moderator).",
        "10:52 carol [WEB] has left the chat (banned by a moderator).",
    ]


def test_banned_at_login_ends_it():
    view = View()
    machine = ClientMachine(view, "bob", "TCP", clock=lambda: NOW.astimezone(EAST))
    machine.connected()
    machine.frameReceived("C ERR BANNED 2026-11-21T12:52:00.000Z flooding")
    assert view.take() == (
        ["C LOGIN bob"],
        ["bob is banned from this room until 14:52: flooding"],
        [],
    )
    assert view.status == 1
    view = View()
    machine = ClientMachine(view, "bob", "TCP", clock=lambda: NOW)
    machine.connected()
    machine.frameReceived("C ERR BANNED -")
    assert view.take()[1] == ["bob is banned from this room."] and view.status == 1


def test_banned_while_coming_back_ends_it():
    machine, view = welcomed(comesBack=True)
    machine.connectionLost()
    assert view.wentAway == ["Lost connection to the server."]
    machine.connected()
    assert view.take()[0] == ["C LOGIN alice GHOST"]
    machine.frameReceived("C ERR BANNED - spam")
    assert view.take()[1] == ["alice is banned from this room: spam"]
    assert view.status == 1 and view.wentAway == ["Lost connection to the server."]


def test_turkish_sentences(monkeypatch):
    monkeypatch.setattr(text, "_translation", text.translationFor("tr"))
    machine, view = welcomed(zone=EAST)
    machine.frameReceived("C MOD BAN bob alice 2026-11-21T12:52:00.000Z flooding")
    machine.frameReceived("C MOD MUTE alice bob - ")
    machine.answer("PM merhaba")
    machine.frameReceived("C ACK PM")
    machine.frameReceived("C ERR MUTED 2026-11-21T12:52:00.000Z")
    shown = view.take()[1]
    assert shown == [
        "12:52 bob, alice tarafından 14:52 saatine kadar yasaklandı: flooding",
        "12:52 alice, bob tarafından ikinci bir duyuruya kadar susturuldu.",
        "14:52 saatine kadar susturuldunuz; mesajınız gönderilmedi.",
    ]
    machine.frameReceived("C BYE KICKED")
    assert view.take()[1] == [
        "Odadan atıldınız. Geri gelebilirsiniz: chatclient'ı yeniden başlatın."
    ]
