"""
Every moderation verb of protocol section 11, and C{C PASSWD}, sent over UDP and over
WebSocket: each test runs once per door (the C{door} fixture), with the staff and the users
all on that door and a watcher on TCP, so the verbs' replies, notices and refusals are the
same whichever door a frame came in by. C{test_moderation_tcp} holds the TCP side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_twisted
from helpers import wswire
from helpers.staff import UNTIL, allDenied, expectMatch, promote
from helpers.waits import readUntil
from helpers.wire import loggedIn as tcpLoggedIn


@dataclass(frozen=True)
class Door:
    """
    One door that is not TCP, with its clients made the same way (UDP clients through the
    C{udp} fixture, which closes them after the test).
    """

    name: str
    udp: Any

    async def loggedIn(self, server: Any, name: str, password: str = "secret") -> Any:
        if self.name == "UDP":
            return await self.udp.loggedIn(server.udpPort, name, password)
        return await wswire.loggedIn(server.webPort, name, password)

    async def login(self, server: Any, name: str) -> Any:
        """
        A new session that sent C{C LOGIN name}, its C{C HELLO} read.
        """
        if self.name == "UDP":
            client = await self.udp.reliable(server.udpPort)
            client.send(f"C LOGIN {name}")
        else:
            client = await wswire.connect(server.webPort)
        await client.expect(f"C HELLO chatroom 1 {self.name}")
        if self.name == "WEB":
            client.send(f"C LOGIN {name}")
        return client


@pytest.fixture(params=["UDP", "WEB"])
def door(request: pytest.FixtureRequest, udp: Any) -> Door:
    """
    Each door in turn: the test runs once over UDP and once over WebSocket.
    """
    return Door(request.param, udp)


async def _room(startServer, door: Door):
    """
    A server with alice (admin), mod (moderator), bob and carol logged in over C{door}, and
    tom (a user) over TCP to watch, every JOIN read.
    """
    server = await startServer()
    tom = await tcpLoggedIn(server.port, "tom")
    alice = await door.loggedIn(server, "alice")
    mod = await door.loggedIn(server, "mod")
    bob = await door.loggedIn(server, "bob")
    carol = await door.loggedIn(server, "carol")
    await promote(server, "alice", "admin")
    await promote(server, "mod", "moderator")
    for client in (tom, alice, mod, bob):
        await readUntil(client, f"C JOIN carol {door.name}")
    return server, tom, alice, mod, bob, carol


@pytest_twisted.ensureDeferred
async def test_users_are_denied_and_bad_frames_refused(startServer, door):
    server, tom, alice, mod, bob, _ = await _room(startServer, door)
    d = door.name
    bob.send("C WHO")
    await bob.expect(f"C USERS @alice:{d} bob:{d} carol:{d} @mod:{d} tom:TCP")
    await allDenied(bob)
    mod.send(
        "C KICK alice",
        "C KICK mod",
        "C KICK nobody",
        "C UNBAN nobody",
        "C ROLE bob moderator",
    )
    await mod.expect(
        "C ERR DENIED alice is an admin",
        "C ERR DENIED not on yourself",
        "C ERR NO_SUCH_USER nobody has no account",
        "C ERR NO_SUCH_USER nobody has no account",
        "C ERR DENIED only admins may change roles",
    )
    mod.send("C BAN bob 10x", "C MUTE bob 0m", "C BAN bob", "C SLOW -1", "C SLOW soon")
    for _ in range(5):
        assert (await mod.next()).startswith("C ERR BAD_FRAME ")
    alice.send("C ROLE bob admin", "C ROLE bob king")
    await alice.expect(
        "C ERR DENIED admins are made with chatroom-admin only",
        "C ERR BAD_FRAME a role is user or moderator",
    )
    # Nothing of it reached anyone else, and the session goes on.
    bob.send("C PING still")
    await bob.expect("C PONG still")
    tom.send("C PING quiet")
    await tom.expect("C PONG quiet")
    assert server.chat.counters.moderation == {}


@pytest_twisted.ensureDeferred
async def test_role_is_given_and_taken_back(startServer, door):
    server, tom, alice, mod, bob, carol = await _room(startServer, door)
    d = door.name
    alice.send("C ROLE bob moderator")
    await alice.expect("C OK ROLE bob")
    for client in (tom, alice, mod, bob, carol):
        await client.expect("C MOD ROLE bob alice moderator")
    carol.send("C WHO")
    await carol.expect(f"C USERS @alice:{d} @bob:{d} carol:{d} @mod:{d} tom:TCP")
    # bob may act now; mod may no longer act on him.
    bob.send("C BANS")
    await bob.expect("C BANS 0")
    mod.send("C MUTE bob 1h")
    await mod.expect("C ERR DENIED only admins act on moderators like bob")
    alice.send("C ROLE Bob user")
    await alice.expect("C OK ROLE bob")
    for client in (tom, alice, mod, bob, carol):
        await client.expect("C MOD ROLE bob alice user")
    bob.send("C BANS", "C WHO")
    await bob.expect(
        "C ERR DENIED only moderators and admins may do that",
        f"C USERS @alice:{d} bob:{d} carol:{d} @mod:{d} tom:TCP",
    )
    assert server.chat.counters.moderation == {"role": 2}


@pytest_twisted.ensureDeferred
async def test_ban_is_listed_and_lifted(startServer, door):
    server, tom, alice, mod, bob, carol = await _room(startServer, door)
    d = door.name
    mod.send("C BAN carol 2h flooding the room")
    await mod.expect("C OK BAN carol")
    notice = await expectMatch(mod, f"C MOD BAN carol mod ({UNTIL}) flooding the room")
    until = notice.split()[5]
    await carol.expect(notice, "C BYE BANNED")
    for client in (tom, bob):
        await client.expect(notice, f"C LEAVE carol {d} BANNED")
    await mod.expect(f"C LEAVE carol {d} BANNED")
    # A new login by this door is refused without a password being asked.
    again = await door.login(server, "Carol")
    await again.expect(f"C ERR BANNED {until} flooding the room")
    # C BANS lists bans and mutes, soonest end first.
    mod.send("C MUTE bob 1h", "C BANS")
    await mod.expect("C OK MUTE bob")
    mute = await expectMatch(mod, f"C MOD MUTE bob mod ({UNTIL})")
    await mod.expect(
        "C BANS 2",
        f"D BAN bob MUTE mod {mute.split()[5]}",
        f"D BAN carol BAN mod {until} flooding the room",
    )
    mod.send("C UNBAN carol", "C UNMUTE bob")
    await mod.expect("C OK UNBAN carol", "C MOD UNBAN carol mod -")
    await mod.expect("C OK UNMUTE bob", "C MOD UNMUTE bob mod -")
    for client in (tom, bob):
        await client.expect(mute, "C MOD UNBAN carol mod -", "C MOD UNMUTE bob mod -")
    # The same session may now log in.
    again.send("C LOGIN carol", "C PASS secret")
    await again.expect("C PASSWORD EXISTING")
    assert (await again.next()).startswith(f"C WELCOME carol {d} ")
    await mod.expect(f"C JOIN carol {d}")
    # Lifting what is not there is said to be done, and tells nobody; a forever ban has no end.
    alice.send("C UNBAN carol", "C BANS", "C BAN bob forever")
    await readUntil(alice, f"C JOIN carol {d}")
    await alice.expect("C OK UNBAN carol", "C BANS 0", "C OK BAN bob", "C MOD BAN bob alice -")
    await bob.expect(f"C JOIN carol {d}", "C MOD BAN bob alice -", "C BYE BANNED")
    alice.send("C BANS")
    await alice.expect(f"C LEAVE bob {d} BANNED", "C BANS 1", "D BAN bob BAN alice -")
    assert server.chat.counters.moderation == {"ban": 2, "mute": 1, "unban": 1, "unmute": 1}


@pytest_twisted.ensureDeferred
async def test_mute_is_lifted_and_slow_mode_refuses(startServer, door):
    server, tom, alice, mod, bob, _ = await _room(startServer, door)
    d = door.name
    mod.send("C MUTE bob 10m calm down")
    await mod.expect("C OK MUTE bob")
    notice = await expectMatch(mod, f"C MOD MUTE bob mod ({UNTIL}) calm down")
    await bob.expect(notice)
    bob.send("C PM", "D hello?")
    await bob.expect("C ACK PM", f"C ERR MUTED {notice.split()[5]}")
    mod.send("C UNMUTE BOB")
    await mod.expect("C OK UNMUTE bob", "C MOD UNMUTE bob mod -")
    await bob.expect("C MOD UNMUTE bob mod -")
    bob.send("C PM", "D back")
    await bob.expect("C ACK PM", "C OK PM 4")
    await tom.expect(notice, "C MOD UNMUTE bob mod -", f"D PM bob {d} back")

    # Slow mode: one public message per 30 s for users, none of it for staff.
    mod.send("C SLOW 30")
    await mod.expect(f"D PM bob {d} back", "C OK SLOW 30", "C MOD SLOW 30 mod -")
    await bob.expect("C MOD SLOW 30 mod -")
    bob.send("C PM", "D one", "C PM", "D two")
    await bob.expect("C ACK PM", "C OK PM 4", "C ACK PM")
    refusal = await bob.next()
    match = re.fullmatch(r"C ERR SLOW (\d+)", refusal)
    assert match and 1 <= int(match.group(1)) <= 30, refusal
    mod.send("C PM", "D a", "C PM", "D b")
    await mod.expect(f"D PM bob {d} one", "C ACK PM", "C OK PM 4", "C ACK PM", "C OK PM 4")
    await tom.expect("C MOD SLOW 30 mod -", f"D PM bob {d} one", f"D PM mod {d} a")
    await tom.expect(f"D PM mod {d} b")
    alice.send("C SLOW 0")
    await readUntil(alice, "C OK SLOW 0")
    await alice.expect("C MOD SLOW 0 alice -")
    await readUntil(bob, "C MOD SLOW 0 alice -")
    bob.send("C PM", "D three")
    await bob.expect("C ACK PM", "C OK PM 4")
    await readUntil(tom, f"D PM bob {d} three")
    assert server.chat.counters.moderation == {"mute": 1, "unmute": 1, "slow": 2}


@pytest_twisted.ensureDeferred
async def test_a_user_changes_their_password(startServer, door):
    server = await startServer()
    alice = await door.loggedIn(server, "alice", "old secret")
    alice.send("C PASS too early")
    await alice.expect("C ERR STATE send C PASSWD first")
    alice.send("C PASSWD", "C PASS wrong", "C PASSWD", "C PASS old secret", "C PASS ")
    await alice.expect(
        "C PASSWORD EXISTING",
        "C ERR BAD_PASSWORD wrong password",
        "C PASSWORD EXISTING",
        "C PASSWORD NEW",
        "C ERR BAD_PASSWORD choose 1 to 256 characters",
    )
    alice.send("C PASSWD", "C PASS old secret", "C PASS new secret, longer")
    await alice.expect("C PASSWORD EXISTING", "C PASSWORD NEW", "C OK PASSWD")
    alice.send("C PING ok", "C EX")
    await alice.expect("C PONG ok", "C BYE EXIT")
    assert server.chat.counters.logins["bad_password"] == 1
    # Only the new password works now, by this door.
    wrong = await door.login(server, "alice")
    wrong.send("C PASS old secret")
    await wrong.expect("C PASSWORD EXISTING", "C ERR BAD_PASSWORD wrong password")
    wrong.send("C LOGIN alice", "C PASS new secret, longer")
    await wrong.expect("C PASSWORD EXISTING")
    assert (await wrong.next()).startswith(f"C WELCOME alice {door.name} ")
