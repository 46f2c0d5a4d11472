"""
Moderation through the IRC door, over a real server process: staff are
channel operators; KICK from a moderator on IRC ends a TCP user's session,
C KICK from a moderator on TCP shows on IRC as KICK and ends the IRC
user's; a plain user's KICK gets 482; section 11's verbs are IRC commands.
"""

from __future__ import annotations

import time
from pathlib import Path

from helpers.admin import runAdmin
from helpers.ircwire import registered
from helpers.wire import BlockingClient, ServerProcess, blockingLoggedIn


def makeModerator(home: Path, name: str, watcher: BlockingClient) -> None:
    """
    Make C{name} a moderator with chatroom-admin, and wait (bounded) until
    the running server lists it with C{@}.
    """
    result = runAdmin(home, "--db", "chat.sqlite", "accounts", "role", name, "moderator")
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        watcher.send("C WHO")
        frame = watcher.next()
        while not frame.startswith("C USERS"):
            frame = watcher.next()
        if f"@{name}:" in frame:
            return
        time.sleep(0.2)
    raise AssertionError(f"{name} never became a moderator")


def test_kick_from_irc_and_from_tcp(ircServer: ServerProcess, ircHome: Path) -> None:
    mod = registered(ircServer.ports["IRC"], "mona")
    watcher = blockingLoggedIn(ircServer.ports["TCP"], "walt")
    makeModerator(ircHome, "mona", watcher)
    victim = blockingLoggedIn(ircServer.ports["TCP"], "vic")
    mod.send("NAMES #chatroom")
    assert "@mona" in mod.waitFor(" 353 ")
    mod.send("KICK #chatroom vic :behave")
    assert mod.waitFor("KICK").endswith(":mona!u@127.0.0.1 KICK #chatroom vic :behave")
    frames: list[str] = []
    while not frames or frames[-1] != "C BYE KICKED":
        frames.append(victim.next())
    assert any(f.startswith("C MOD KICK vic mona - behave") for f in frames), frames
    # A plain IRC user may not kick.
    plain = registered(ircServer.ports["IRC"], "pete")
    plain.send("KICK #chatroom walt :no")
    assert " 482 " in plain.waitFor(" 482 ")
    # A moderator on TCP kicks the IRC user: IRC shows KICK, then ERROR.
    tcpMod = blockingLoggedIn(ircServer.ports["TCP"], "tmod")
    makeModerator(ircHome, "tmod", watcher)
    tcpMod.send("C KICK pete enough")
    assert plain.waitFor("KICK").endswith(":tmod KICK #chatroom pete :enough")
    assert plain.waitFor("ERROR").startswith("ERROR :Closing Link")
    assert mod.waitFor("KICK #chatroom pete").endswith(":tmod KICK #chatroom pete :enough")
    # Section 11's other verbs, as IRC commands.
    mod.send("MUTE walt 5m :shh", "BANS", "UNMUTE walt", "FROBNICATE")
    assert "MUTE walt" in mod.waitFor("NOTICE")
    assert "1 bans and mutes" in mod.waitFor("bans and mutes")
    assert "MUTE" in mod.waitFor("NOTICE")
    assert "UNMUTE walt" in mod.waitFor("UNMUTE")
    assert " 421 " in mod.waitFor(" 421 ")
    for client in (mod, plain):
        client.close()
    for tcp in (watcher, victim, tcpMod):
        tcp.close()
