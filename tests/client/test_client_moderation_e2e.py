"""
Moderation and PASSWD through real C{chatclient} processes against a real
C{twistd chatroom} (protocol 1.2): a moderator made by the store's own
C{setRole} kicks, bans, mutes and slows down through chatclient, and the
target's chatclient tells it in sentences, in English and in Turkish; a
user changes their password and logs in again with the new one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import pytest_twisted
from helpers.servers import Restartable
from helpers.terminal import Screen
from helpers.wire import ClientProcess, pipedClient

from chatroom import names

#: A local time as the client shows it.
TIME = r"\d\d:\d\d"


def _register(server: Restartable, *people: str) -> None:
    for name in people:
        status, out = pipedClient(server.ports["TCP"], name, "pw\nEX\n")
        assert status == 0 and "Bye." in out, out


def _makeModerator(server: Restartable, name: str) -> None:
    """
    C{name} becomes a moderator through the store's own call (as
    C{chatroom-admin} does), on the server's database while it is stopped.
    """
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred

    from chatroom.database import openStore

    async def promote() -> None:
        store = openStore(reactor, str(server.directory / "chat.sqlite"), 5.0)
        await store.open()
        try:
            assert await store.setRole(names.caseless(name), "moderator")
        finally:
            await store.close()

    pytest_twisted.blockon(Deferred.fromCoroutine(promote()))


@pytest.fixture
def room(restartable: Restartable) -> Iterator[Restartable]:
    """
    A server where alice is a moderator, and bob and ayşe are users (each
    with the password "pw").
    """
    _register(restartable, "alice", "bob", "ayşe")
    restartable.stop()
    _makeModerator(restartable, "alice")
    restartable.start()
    yield restartable


def _client(server: Restartable, name: str, *args: str) -> ClientProcess:
    client = ClientProcess("127.0.0.1", str(server.ports["TCP"]), name, *args)
    client.type("pw")
    return client


def test_a_moderator_mutes_slows_lists_kicks_and_bans_through_chatclient(room):
    alice = _client(room, "alice")
    alice.waitFor("Online now (1): @alice[TCP] (you) (@: moderator or admin)")
    bob = _client(room, "bob", "--reconnect")
    try:
        bob.waitFor("Online now (2): @alice[TCP], bob[TCP] (you) (@: moderator or admin)")
        bob.type("HELP")
        bob.waitFor("PASSWD")
        alice.type("HELP")
        alice.waitFor("KICK <name> [reason]")
        alice.waitFor("In the list of who is online, @ marks moderators and admins.")
        # A user's verb is refused, in plain words.
        bob.type("KICK alice")
        bob.waitFor("You may not do that: moderators act on users")
        # Mute: everyone is told; bob's messages are refused until unmuted.
        alice.type("MUTE bob 10m shouting")
        line = alice.waitFor("bob was muted by alice until")
        assert re.fullmatch(f"{TIME} bob was muted by alice until {TIME}: shouting", line), line
        bob.waitFor("bob was muted by alice until")
        bob.type("PM", "let me speak")
        line = bob.waitFor("You are muted until")
        assert re.fullmatch(f"You are muted until {TIME}; your message was not sent.", line)
        alice.type("BANS")
        alice.waitFor("1 ban or mute in force, soonest end first:")
        line = alice.waitFor("bob: muted by alice until")
        assert re.fullmatch(f"  bob: muted by alice until {TIME}: shouting", line), line
        alice.type("UNMUTE bob")
        bob.waitFor("alice lifted the mute on bob.")
        # Slow mode: the second message within 30 s is refused.
        alice.type("SLOW 30")
        bob.waitFor("alice turned on slow mode: one public message per 30 seconds.")
        bob.type("PM", "first")
        bob.waitFor("Sent to 1 user.")
        bob.type("PM", "second")
        line = bob.waitFor("Slow mode is on: wait")
        assert re.fullmatch(
            r"Slow mode is on: wait \d+ seconds? before your next message;"
            " this one was not sent.",
            line,
        ), line
        alice.type("SLOW off")
        bob.waitFor("alice turned slow mode off.")
        # A typo is explained, not sent.
        alice.type("BAN bob 1w")
        alice.waitFor("'1w' is not a duration")
        # Kick: bob's client says so and ends, without reconnecting (even
        # with --reconnect); alice sees why he left.
        alice.type("KICK bob flooding")
        bob.waitFor("bob was kicked out by alice: flooding")
        bob.waitFor("You were kicked out of the room. You may come back: start chatclient again.")
        assert bob.wait() == 1
        assert not any("Reconnecting" in line for line in bob.lines), bob.lines
        alice.waitFor("bob [TCP] has left the chat (kicked out by a moderator).")
        # He may come back at once; a ban then ends him for good.
        bob = _client(room, "bob", "--reconnect")
        alice.waitFor("bob [TCP] has joined the chat.")
        bob.waitFor("Operation [PM/DM/EX]:")
        alice.type("BAN bob 1h spam")
        line = bob.waitFor("bob was banned by alice until")
        assert re.fullmatch(f"{TIME} bob was banned by alice until {TIME}: spam", line), line
        bob.waitFor("You are banned from this room, so chatclient ends here.")
        assert bob.wait() == 1
        alice.waitFor("bob [TCP] has left the chat (banned by a moderator).")
        status, out = pipedClient(room.ports["TCP"], "bob", "pw\nEX\n")
        assert status == 1, out
        assert re.search(f"bob is banned from this room until {TIME}: spam", out), out
        assert "Password" not in out  # no password asked of a banned name
        alice.type("UNBAN bob")
        alice.waitFor("alice lifted the ban on bob.")
        status, out = pipedClient(room.ports["TCP"], "bob", "pw\nEX\n")
        assert status == 0 and "Bye." in out, out
        alice.type("EX")
        assert alice.wait() == 0
    finally:
        alice.stop()
        bob.stop()


def test_moderation_told_in_turkish(room):
    alice = _client(room, "alice")
    alice.waitFor("Online now (1): @alice[TCP] (you)")
    ayse = _client(room, "ayşe", "--lang", "tr")
    try:
        ayse.waitFor(
            "Şu anda çevrimiçi (2): @alice[TCP], ayşe[TCP] (siz) (@: moderatör ya da yönetici)"
        )
        alice.waitFor("ayşe [TCP] has joined the chat.")
        alice.type("MUTE ayşe 10m bağırma")
        line = ayse.waitFor("alice tarafından")
        assert re.fullmatch(
            f"{TIME} ayşe, alice tarafından {TIME} saatine kadar susturuldu: bağırma", line
        ), line
        ayse.type("PM", "merhaba")
        line = ayse.waitFor("susturuldunuz")
        assert re.fullmatch(f"{TIME} saatine kadar susturuldunuz; mesajınız gönderilmedi.", line)
        alice.type("SLOW 20")
        ayse.waitFor("alice yavaş modu açtı: 20 saniyede bir genel mesaj.")
        alice.type("KICK ayşe")
        ayse.waitFor("ayşe, alice tarafından odadan atıldı.")
        ayse.waitFor("Odadan atıldınız. Geri gelebilirsiniz: chatclient'ı yeniden başlatın.")
        assert ayse.wait() == 1
        alice.waitFor("ayşe [TCP] has left the chat (kicked out by a moderator).")
        ayse = _client(room, "ayşe", "--lang", "tr")
        ayse.waitFor("İşlem [PM/DM/EX]:")
        alice.type("BAN ayşe forever")
        ayse.waitFor("ayşe, alice tarafından süresiz olarak yasaklandı.")
        ayse.waitFor("Bu odadan yasaklandınız; chatclient burada sona eriyor.")
        assert ayse.wait() == 1
        ayse = _client(room, "ayşe", "--lang", "tr")
        ayse.waitFor("ayşe bu odadan yasaklı.")
        assert ayse.wait() == 1
        alice.type("EX")
        assert alice.wait() == 0
    finally:
        alice.stop()
        ayse.stop()
    out = "\n".join(ayse.lines)
    assert "banned" not in out and "muted" not in out


def test_passwd_end_to_end(room, tmp_path):
    bob = _client(room, "bob")
    try:
        bob.waitFor("Operation [PM/DM/EX]:")
        # A wrong current password changes nothing, and the session goes on.
        bob.type("PASSWD")
        bob.waitFor("Current password:")
        bob.type("not it")
        bob.waitFor("Wrong password: your password was not changed.")
        bob.type("PASSWD")
        bob.waitFor("Current password:")
        bob.type("pw")
        bob.waitFor("New password:")
        bob.type("Xk9-new-secret")
        bob.waitFor("Type the same password again:")
        bob.type("Xk9-typo")
        bob.waitFor("The passwords differ; please choose again.")
        bob.waitFor("New password:")
        bob.type("Xk9-new-secret", "Xk9-new-secret")
        bob.waitFor("Your password is changed; use the new one from now on.")
        bob.type("EX")
        assert bob.wait() == 0
    finally:
        bob.stop()
    status, out = pipedClient(room.ports["TCP"], "bob", "pw\nEX\n")
    assert "Wrong password." in out, out  # the old one no longer opens it
    status, out = pipedClient(room.ports["TCP"], "bob", "Xk9-new-secret\nPM\nnew me\nEX\n")
    assert status == 0 and "Sent to 0 users." in out, out
    for secret in ("Xk9-new-secret", "Xk9-typo", "not it"):
        assert secret not in room.log()
        for path in tmp_path.rglob("*"):
            if path.is_file() and path.suffix != ".sqlite":
                assert secret.encode() not in path.read_bytes(), path


def test_passwd_at_a_terminal_shows_no_password(room):
    """
    At a terminal every password of the change is typed unseen, the new
    one twice; Ctrl-C at one of them cancels the change.
    """
    bob = Screen("127.0.0.1", str(room.ports["TCP"]), "bob")
    try:
        bob.waitFor("Password:")
        bob.type("pw\r")
        bob.waitForPrompt("Operation [PM/DM/EX]:")
        bob.type("PASSWD\r")
        bob.waitForPrompt("Current password:")
        bob.type("pw\r")
        bob.waitForPrompt("New password:")
        bob.type("half\x03")
        bob.waitFor("Cancelled: your password was not changed.")
        bob.waitForPrompt("Operation [PM/DM/EX]:")
        bob.type("PASSWD\r")
        bob.waitForPrompt("Current password:")
        bob.type("pw\r")
        bob.waitForPrompt("New password:")
        bob.type("Vt4-unseen\r")
        bob.waitForPrompt("Type the same password again:")
        bob.type("Vt4-unseen\r")
        bob.waitFor("Your password is changed; use the new one from now on.")
        bob.waitForPrompt("Operation [PM/DM/EX]:")
        screen = "\n".join(bob.lines())
        assert "Vt4-unseen" not in screen and "half" not in screen, screen
        bob.type("EX\r")
        bob.waitFor("Bye.")
    finally:
        bob.child.close(force=True)
    status, out = pipedClient(room.ports["TCP"], "bob", "Vt4-unseen\nEX\n")
    assert status == 0 and "Bye." in out, out
