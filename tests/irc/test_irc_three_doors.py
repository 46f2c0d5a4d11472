"""
A TCP user, a WebSocket user and an IRC user in one room, over a real
server process: public and direct messages in every direction.
"""

from __future__ import annotations

from pathlib import Path

import pytest_twisted
from helpers.ircwire import registered
from helpers.wire import blockingLoggedIn, twistdServer
from helpers.wswire import loggedIn


async def nextData(client) -> str:
    frame = await client.next()
    while not frame.startswith("D "):
        frame = await client.next()
    return frame


@pytest_twisted.ensureDeferred
async def test_tcp_web_and_irc(tmp_path: Path) -> None:
    server = twistdServer(tmp_path, "--irc=tcp:0:interface=127.0.0.1", "--irc-server-name=x")
    try:
        irc = registered(server.ports["IRC"], "ira", caps="echo-message")
        tcp = blockingLoggedIn(server.ports["TCP"], "tom")
        web = await loggedIn(server.ports["WEB"], "wen")
        # IRC to both.
        irc.send("PRIVMSG #chatroom :from irc", "PRIVMSG wen :irc to web")
        assert await nextData(web) == "D PM ira IRC from irc"
        assert await nextData(web) == "D DM ira IRC irc to web"
        frame = tcp.next()
        while not frame.startswith("D "):
            frame = tcp.next()
        assert frame == "D PM ira IRC from irc"
        # The web to IRC, in the channel and directly.
        web.send("C PM", "D from the web", "C DM", "D ira web to irc")
        frame = await web.next()  # the reactor runs (and sends) only while awaited
        while not frame.startswith("C OK DM"):
            frame = await web.next()
        assert irc.waitFor("PRIVMSG #chatroom :from the web").startswith(":wen!WEB@WEB ")
        assert irc.waitFor("PRIVMSG ira :web to irc").startswith(":wen!WEB@WEB ")
        # TCP to IRC.
        tcp.send("C DM", "D ira tcp to irc")
        assert irc.waitFor("PRIVMSG ira :tcp to irc").startswith(":tom!TCP@TCP ")
        irc.send("PRIVMSG tom :irc to tcp")
        frame = tcp.next()
        while not frame.startswith("D DM"):
            frame = tcp.next()
        assert frame == "D DM ira IRC irc to tcp"
        irc.close()
        tcp.close()
        web.close()
    finally:
        server.stop()
