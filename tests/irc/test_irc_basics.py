"""
Step one of the IRC door, over a real server process: registration by PASS
and by SASL PLAIN (before NICK too), JOIN, PRIVMSG both ways between an IRC
user and a TCP user, direct messages and stored ones, PING before and after
registration, QUIT.
"""

from __future__ import annotations

import re

from helpers.ircwire import IRCClient, plain, registered
from helpers.wire import BlockingClient, ServerProcess, blockingLoggedIn


def test_pass_registration_welcome(ircServer: ServerProcess) -> None:
    """
    PASS, NICK, USER get 001 to 005 (with the ISUPPORT tokens section 14
    names), LUSERS and MOTD; a TCP user sees the IRC user arrive.
    """
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "tessa")
    irc = IRCClient(ircServer.ports["IRC"])
    irc.send("PASS pw-ida", "NICK ida", "USER ida 0 * :Ida Irc")
    lines = irc.until(" 376 ")
    numerics = [line.split(" ")[1] for line in lines]
    for code in ("001", "002", "003", "004", "005", "251", "375", "372", "376"):
        assert code in numerics, lines
    assert lines[0].startswith(":irc.test 001 ida ")
    isupport = next(line for line in lines if " 005 " in line)
    for token in (
        "CHANTYPES=#",
        "PREFIX=(ov)@+",
        "CASEMAPPING=rfc8265",
        "NICKLEN=32",
        "UTF8ONLY",
        "CHANNELLEN=",
        "TARGMAX=",
        "NETWORK=",
    ):
        assert token in isupport
    assert tcp.next() == "C JOIN ida IRC"
    irc.send("QUIT :gone fishing")
    assert irc.waitFor("ERROR").startswith("ERROR :")
    assert irc.closed()
    assert tcp.next() == "C LEAVE ida IRC EXIT"
    tcp.close()


def test_chat_both_ways_with_tcp(ircServer: ServerProcess) -> None:
    """
    The IRC user joins the channel and hears the TCP user's public message
    from C{name!TCP@TCP} with its server-time; its own PRIVMSG reaches the
    TCP user as a public message, and comes back to it with echo-message.
    """
    irc = registered(ircServer.ports["IRC"], "ivan", caps="server-time echo-message account-tag")
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "tomas")
    assert irc.command(irc.waitFor("JOIN")) == "JOIN #chatroom"
    assert "tomas!TCP@TCP" in irc.seen[-1]
    tcp.send("C PM", "D hello from tcp ğüş")
    tcp.expect("C ACK PM")
    assert tcp.next().startswith("C OK PM ")
    line = irc.waitFor("PRIVMSG")
    assert re.match(
        r"@time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z;account=tomas "
        r":tomas!TCP@TCP PRIVMSG #chatroom :hello from tcp ğüş$",
        line,
    ), line
    irc.send("PRIVMSG #chatroom :hi from irc")
    assert tcp.next() == "D PM ivan IRC hi from irc"
    echoed = irc.waitFor("PRIVMSG")
    assert echoed.endswith(":ivan!u@127.0.0.1 PRIVMSG #chatroom :hi from irc"), echoed
    irc.send("PING :are you there")
    assert irc.waitFor("PONG").endswith(" :are you there")
    irc.send("QUIT")
    irc.waitFor("ERROR")
    assert tcp.next() == "C LEAVE ivan IRC EXIT"
    tcp.close()
    irc.close()


def test_sasl_before_nick(ircServer: ServerProcess) -> None:
    """
    SASL PLAIN before NICK logs in (903) and registers the account; the same
    name later logs in again with PASS; a wrong SASL password gets 904.
    """
    irc = IRCClient(ircServer.ports["IRC"])
    irc.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
    assert irc.waitFor("AUTHENTICATE") == "AUTHENTICATE +"
    irc.send(f"AUTHENTICATE {plain('sasha', 'sasl-pw')}")
    assert " 900 " in irc.waitFor(" 900 ")
    irc.waitFor(" 903 ")
    irc.send("NICK sasha", "USER s 0 * :Sasha", "CAP END")
    assert irc.waitFor(" 001 ").startswith(":irc.test 001 sasha ")
    irc.send("QUIT")
    irc.waitFor("ERROR")
    irc.close()
    again = registered(ircServer.ports["IRC"], "sasha", password="sasl-pw", join=False)
    again.close()
    wrong = IRCClient(ircServer.ports["IRC"])
    wrong.send(
        "CAP LS 302",
        "NICK sasha",
        "USER s 0 * :Sasha",
        "CAP REQ :sasl",
        "AUTHENTICATE PLAIN",
        f"AUTHENTICATE {plain('sasha', 'nope')}",
    )
    assert " 904 " in wrong.waitFor(" 904 ")
    wrong.close()


def test_ping_before_registration(ircServer: ServerProcess) -> None:
    irc = IRCClient(ircServer.ports["IRC"])
    irc.send("PING :early bird")
    assert irc.next() == ":irc.test PONG irc.test :early bird"
    irc.send("JOIN #chatroom")
    assert " 451 " in irc.next()
    irc.close()


def test_direct_messages_and_stored_ones(ircServer: ServerProcess) -> None:
    """
    PRIVMSG to a nick is a direct message both ways; one stored while the
    IRC user was away comes at registration as PRIVMSG from its sender,
    with its time.
    """
    first = registered(ircServer.ports["IRC"], "dora", join=False)
    first.send("QUIT")
    first.waitFor("ERROR")
    first.close()
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "dmitri")
    tcp.send("C DM", "D dora while you were out")
    tcp.next()  # C USERS
    assert tcp.next() == "C OK DM dora STORED"
    irc = registered(ircServer.ports["IRC"], "dora", caps="server-time", join=False)
    stored = irc.waitFor("PRIVMSG")
    assert re.match(r"@time=\S+Z :dmitri!TCP@TCP PRIVMSG dora :while you were out$", stored), stored
    assert tcp.next() == "C JOIN dora IRC"
    tcp.send("C DM", "D dora live one")
    tcp.next()
    assert tcp.next() == "C OK DM dora"
    assert irc.waitFor("PRIVMSG").endswith(":dmitri!TCP@TCP PRIVMSG dora :live one")
    irc.send("PRIVMSG dmitri :back to you")
    assert tcp.next() == "D DM dora IRC back to you"
    irc.send("PRIVMSG nobody-here :hello?")
    assert " 401 dora nobody-here " in irc.waitFor(" 401 ")
    irc.close()
    tcp.close()


def test_tcp_client_unaffected(ircServer: ServerProcess) -> None:
    client = BlockingClient(ircServer.ports["TCP"])
    assert client.next() == "C HELLO chatroom 1 TCP"
    client.close()


def test_sasl_in_chunks_and_not_ascii(ircServer: ServerProcess) -> None:
    """
    SASL PLAIN credentials longer than one AUTHENTICATE (400 bytes a chunk,
    a last chunk of exactly 400 closed by '+'), with an authorization name,
    and a password that is not ASCII.
    """
    import base64

    for name, password in (("chunky", "é" * 150), ("even", "é" * 145)):
        blob = base64.b64encode(f"{name}\0{name}\0{password}".encode()).decode()
        irc = IRCClient(ircServer.ports["IRC"])
        irc.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
        assert irc.waitFor("AUTHENTICATE") == "AUTHENTICATE +"
        chunks = [blob[i : i + 400] for i in range(0, len(blob), 400)]
        if len(chunks[-1]) == 400:
            chunks.append("+")
        irc.send(*[f"AUTHENTICATE {chunk}" for chunk in chunks])
        assert irc.waitFor(" 900 ").split(" ")[4] == name
        assert " 903 " in irc.next()
        irc.send("CAP END", f"NICK {name}", "USER u 0 * :R")
        irc.waitFor(" 001 ")
        irc.close()
