"""
What a nickname being an account means on IRC, over a real server process:
SASL's account decides the nickname, SASL comes once and before
registration, its credentials are bounded; on a server without accounts
nothing claims one (no C{330}, no C{account} tag). And the one user mode,
C{+i}, which hides a user from others' C{WHO} masks.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from helpers.ircwire import IRCClient, plain, registered
from helpers.wire import BlockingClient, ServerProcess, blockingLoggedIn, twistdServer


@pytest.fixture(scope="module")
def openServer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """
    A server with C{--no-accounts}: C{NICK} and C{USER} are enough.
    """
    server = twistdServer(
        tmp_path_factory.mktemp("open"),
        "--irc=tcp:0:interface=127.0.0.1",
        "--irc-server-name=irc.test",
        "--no-web",
        "--no-accounts",
    )
    yield server
    server.stop()


def saslClient(port: int, nick: str, credentials: str) -> IRCClient:
    irc = IRCClient(port)
    irc.send(
        "CAP LS 302", "CAP REQ :sasl", f"NICK {nick}", "USER u 0 * :Real", "AUTHENTICATE PLAIN"
    )
    assert irc.waitFor("AUTHENTICATE") == "AUTHENTICATE +"
    irc.send(f"AUTHENTICATE {credentials}")
    return irc


def test_sasl_account_decides_the_nickname(ircServer: ServerProcess) -> None:
    """
    A client that said C{NICK foo} and proved the account C{jill} is
    registered as C{jill}: C{900} and C{001} say so, and the room sees
    C{jill} arrive, never C{foo}.
    """
    first = registered(ircServer.ports["IRC"], "jill", password="jill-pw", join=False)
    first.send("QUIT")
    first.waitFor("ERROR")
    first.close()
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "tara")
    irc = saslClient(ircServer.ports["IRC"], "foo", plain("jill", "jill-pw"))
    logged = irc.waitFor(" 900 ")
    assert logged.split(" ")[4] == "jill", logged
    irc.waitFor(" 903 ")
    irc.send("CAP END")
    assert irc.waitFor(" 001 ").startswith(":irc.test 001 jill ")
    assert tcp.next() == "C JOIN jill IRC"
    irc.send("NICK foo")
    assert " 447 " in irc.waitFor(" 447 ")
    irc.close()
    tcp.close()


def test_sasl_only_before_registration(ircServer: ServerProcess) -> None:
    """
    C{AUTHENTICATE} after C{001} gets C{462}: the nickname is the account,
    so there is no other account to move to.
    """
    irc = registered(ircServer.ports["IRC"], "rhea", caps="sasl", join=False)
    irc.send("AUTHENTICATE PLAIN")
    assert " 462 rhea " in irc.waitFor(" 462 ")
    irc.send("PING :still here")
    assert irc.waitFor("PONG").endswith(":still here")
    irc.close()


def test_sasl_credentials_are_bounded(ircServer: ServerProcess) -> None:
    """
    An C{AUTHENTICATE} line over 400 bytes gets C{905}; chunks that never
    end get C{904} once they exceed what PLAIN credentials can be, and the
    client may try again on the same connection.
    """
    irc = IRCClient(ircServer.ports["IRC"])
    irc.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
    assert irc.waitFor("AUTHENTICATE") == "AUTHENTICATE +"
    irc.send("AUTHENTICATE " + "A" * 401)
    assert " 905 " in irc.waitFor(" 905 ")
    irc.send("AUTHENTICATE PLAIN")
    assert irc.waitFor("AUTHENTICATE") == "AUTHENTICATE +"
    chunk = base64.b64encode(b"x" * 300).decode()
    assert len(chunk) == 400
    irc.send(*[f"AUTHENTICATE {chunk}"] * 10)
    assert " 904 " in irc.waitFor(" 904 ")
    irc.send("AUTHENTICATE PLAIN")
    assert irc.waitFor("AUTHENTICATE") == "AUTHENTICATE +"
    irc.send(f"AUTHENTICATE {plain('bounded', 'bounded-pw')}", "NICK bounded", "USER b 0 * :B")
    irc.waitFor(" 903 ")
    irc.send("CAP END")
    assert irc.waitFor(" 001 ").startswith(":irc.test 001 bounded ")
    irc.close()


def test_no_account_claimed_without_accounts(openServer: ServerProcess) -> None:
    """
    With C{--no-accounts}, C{WHOIS} has no C{330} and messages carry no
    C{account} tag: nobody proved an account.
    """
    port = openServer.ports["IRC"]
    asker = IRCClient(port)
    asker.send("CAP LS 302", "NICK asker", "USER a 0 * :Asker", "CAP REQ :account-tag", "CAP END")
    asker.waitFor(" 376 ")
    asker.send("JOIN #chatroom")
    asker.waitFor(" 366 ")
    tcp = BlockingClient(openServer.ports["TCP"])
    tcp.expect("C HELLO chatroom 1 TCP")
    tcp.send("C LOGIN teo")
    assert tcp.next().startswith("C WELCOME teo TCP ")
    asker.waitFor("JOIN")
    tcp.send("C PM", "D no account here")
    line = asker.waitFor("PRIVMSG")
    assert line.startswith(":teo!TCP@TCP PRIVMSG #chatroom :"), line
    asker.send("WHOIS teo")
    answer = asker.until(" 318 ")
    assert any(" 311 " in reply for reply in answer), answer
    assert not any(" 330 " in reply for reply in answer), answer
    asker.close()
    tcp.close()


def test_invisible_users_hide_from_masks(openServer: ServerProcess) -> None:
    """
    C{MODE nick +i} hides a user from another's C{WHO} mask until both are
    in the channel; asked by exact nickname it shows; C{LUSERS} counts it.
    """
    port = openServer.ports["IRC"]
    evan = IRCClient(port)
    evan.send("NICK evan", "USER e 0 * :Evan")
    evan.waitFor(" 376 ")
    evan.send("MODE evan +i")
    assert evan.waitFor("MODE").endswith("MODE evan +i")
    evan.send("MODE evan")
    assert evan.waitFor(" 221 ").endswith(" 221 evan :+i")
    seeker = IRCClient(port)
    seeker.send("NICK seeker", "USER s 0 * :Seeker")
    welcome = seeker.until(" 376 ")
    assert any(" 251 " in line and "1 invisible" in line for line in welcome), welcome
    seeker.send("WHO eva*")
    assert [line.split(" ")[1] for line in seeker.until(" 315 ")] == ["315"]
    seeker.send("WHO evan")
    assert [line.split(" ")[1] for line in seeker.until(" 315 ")] == ["352", "315"]
    evan.send("JOIN #chatroom")
    evan.waitFor(" 366 ")
    seeker.send("JOIN #chatroom")
    seeker.waitFor(" 366 ")
    seeker.send("WHO eva*")
    assert [line.split(" ")[1] for line in seeker.until(" 315 ")] == ["352", "315"]
    evan.close()
    seeker.close()
