"""
The IRC door's commands and numerics over a real server process: queries,
the channel's JOIN/PART/NOTICE/ACTION between IRC users, names (taken,
look-alike, refused), a wrong password, the line limits, order while a
password is hashed.
"""

from __future__ import annotations

import time

from helpers.ircwire import IRCClient, registered
from helpers.wire import ServerProcess, blockingLoggedIn


def code(line: str) -> str:
    return line.split(" ")[1]


def test_queries(ircServer: ServerProcess) -> None:
    """
    NAMES, WHO, WHOIS, ISON, USERHOST, AWAY, LUSERS, MOTD, MODE, TOPIC;
    421 for an unknown command, 410 for an unknown CAP subcommand.
    """
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "quinn")
    irc = registered(ircServer.ports["IRC"], "qira", caps="multi-prefix userhost-in-names")
    irc.send("NAMES #chatroom")
    names = irc.until(" 366 ")
    assert any("qira!u@127.0.0.1" in line and "quinn!TCP@TCP" in line for line in names), names
    irc.send("WHO #chatroom")
    who = irc.until(" 315 ")
    assert any(" 352 qira #chatroom TCP TCP irc.test quinn H :0 on TCP" in line for line in who)
    mine = " 352 qira #chatroom u 127.0.0.1 irc.test qira H :0 Real Name"
    assert any(mine in line for line in who)
    irc.send("WHOIS QUINN")
    whois = irc.until(" 318 ")
    assert [code(line) for line in whois] == ["311", "319", "312", "330", "318"], whois
    irc.send("WHOIS nobody")
    assert [code(line) for line in irc.until(" 318 ")] == ["401", "318"]
    irc.send("ISON quinn nobody QIRA")
    assert irc.waitFor(" 303 ").endswith(" 303 qira :quinn qira")
    irc.send("AWAY :lunch", "USERHOST qira quinn")
    assert " 306 " in irc.next()
    assert irc.next().endswith(" 302 qira :qira=-u@127.0.0.1 quinn=+TCP@TCP")
    irc.send("AWAY")
    assert " 305 " in irc.next()
    irc.send("LUSERS", "MOTD", "MODE #chatroom", "MODE qira", "TOPIC #chatroom")
    assert code(irc.waitFor(" 251 ")) == "251"
    irc.waitFor(" 376 ")
    assert code(irc.next()) == "324"
    assert code(irc.next()) == "221"
    assert code(irc.next()) == "331"
    irc.send("CAP REQ :-multi-prefix", "CAP LIST", "CAP REQ :multi-prefix no-such-cap")
    assert irc.next().endswith(" CAP qira ACK :-multi-prefix")
    assert irc.next().endswith(" CAP qira LIST :userhost-in-names")
    assert " CAP qira NAK :multi-prefix no-such-cap" in irc.next()
    irc.send("WHO q*")
    who = irc.until(" 315 ")
    assert [line.split(" ")[7] for line in who[:-1]] == ["quinn", "qira"] or [
        line.split(" ")[7] for line in who[:-1]
    ] == ["qira", "quinn"], who
    irc.sendRaw(b"PRIVMSG #chatroom :\xff\xfe broken\r\n")
    assert irc.next() == ":irc.test FAIL PRIVMSG INVALID_UTF8 :lines must be UTF-8"
    irc.send("NOTICE #nonexistent :hello", "NOTICE nobody :hi", "NOTICE #chatroom :", "PING :n")
    assert irc.next().endswith(" PONG irc.test :n")  # no error for a notice
    irc.send("FROB x", "CAP FROB", "JOIN #elsewhere", "NICK someoneelse", "USER a b c :d")
    assert irc.next().endswith(" 421 qira FROB :Unknown command")
    assert code(irc.next()) == "410"
    assert code(irc.next()) == "403"
    assert code(irc.next()) == "447"
    assert code(irc.next()) == "462"
    irc.send("PART #chatroom :bye", "PART #chatroom")
    assert irc.command(irc.next()) == "PART #chatroom :bye"
    assert code(irc.next()) == "442"
    irc.close()
    tcp.close()


def test_two_irc_users_in_the_channel(ircServer: ServerProcess) -> None:
    """
    Another IRC user's JOIN, NOTICE, /me, PART and QUIT, as IRC shows them;
    formatting codes never reach the TCP user.
    """
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "tara")
    one = registered(ircServer.ports["IRC"], "uma")
    two = registered(ircServer.ports["IRC"], "una")
    assert one.waitFor("JOIN").startswith(":una!u@127.0.0.1 JOIN")
    two.send("NOTICE #chatroom :a notice", "PRIVMSG #chatroom :\x01ACTION waves\x01")
    assert one.waitFor("NOTICE").endswith(":una!u@127.0.0.1 NOTICE #chatroom :a notice")
    assert one.waitFor("PRIVMSG").endswith("PRIVMSG #chatroom :\x01ACTION waves\x01")
    two.send("PRIVMSG #chatroom :\x02bold\x02 and \x0304,12red\x03")
    assert one.waitFor("PRIVMSG").endswith(":bold and red")
    frames = [tcp.next() for _ in range(5)]
    assert "D PM una IRC a notice" in frames
    assert "D PM una IRC /me waves" in frames
    assert "D PM una IRC bold and red" in frames
    two.send("PART #chatroom :later")
    assert one.waitFor("PART").endswith(":una!u@127.0.0.1 PART #chatroom :later")
    two.send("JOIN #chatroom", "QUIT :so long")
    one.waitFor("JOIN")
    assert one.waitFor("QUIT").endswith(":una!u@127.0.0.1 QUIT :Quit: so long")
    assert two.waitFor("ERROR").startswith("ERROR :Closing Link")
    one.close()
    tcp.close()


def test_notice_to_a_nick_stays_a_notice(ircServer: ServerProcess) -> None:
    """
    A NOTICE sent to a nick reaches that IRC user as a NOTICE (clients and
    bots must not answer it), and a PRIVMSG after it as a PRIVMSG again.
    """
    one = registered(ircServer.ports["IRC"], "nell")
    two = registered(ircServer.ports["IRC"], "nico")
    two.send("NOTICE nell :just so you know", "PRIVMSG nell :and a question")
    assert one.waitFor("just so you know").endswith(
        ":nico!u@127.0.0.1 NOTICE nell :just so you know"
    )
    assert one.waitFor("and a question").endswith(":nico!u@127.0.0.1 PRIVMSG nell :and a question")
    one.close()
    two.close()


def test_taken_lookalike_and_bad_names(ircServer: ServerProcess) -> None:
    """
    A name online elsewhere gets 433, so does its look-alike; a name the
    room refuses gets 432; the client then picks another and registers.
    """
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "cop")
    irc = IRCClient(ircServer.ports["IRC"])
    irc.send("PASS pw", "NICK cop", "USER u 0 * :R")
    assert irc.waitFor(" 433 ").startswith(":irc.test 433 cop cop ")
    irc.send("NICK \u0441\u043e\u0440")  # Cyrillic: looks like cop
    assert " 433 " in irc.waitFor(" 433 ")
    irc.send("NICK \u0430lice")  # mixed scripts
    assert " 432 " in irc.waitFor(" 432 ")
    irc.send("NICK copper")
    assert irc.waitFor(" 001 ").startswith(":irc.test 001 copper ")
    irc.close()
    tcp.close()


def test_wrong_password_and_none(ircServer: ServerProcess) -> None:
    first = registered(ircServer.ports["IRC"], "wanda", password="right", join=False)
    first.send("QUIT")
    first.waitFor("ERROR")
    first.close()
    wrong = IRCClient(ircServer.ports["IRC"])
    wrong.send("PASS wrong", "NICK wanda", "USER u 0 * :R")
    assert " 464 " in wrong.waitFor(" 464 ")
    assert wrong.waitFor("ERROR").startswith("ERROR :")
    assert wrong.closed()
    none = IRCClient(ircServer.ports["IRC"])
    none.send("NICK wanda", "USER u 0 * :R")
    assert "PASS" in none.waitFor(" 464 ")
    assert none.closed()
    prefixed = IRCClient(ircServer.ports["IRC"])
    prefixed.send("PASS wanda:right", "NICK wanda", "USER u 0 * :R")
    prefixed.waitFor(" 001 ")
    prefixed.close()


def test_user_needs_parameters(ircServer: ServerProcess) -> None:
    irc = IRCClient(ircServer.ports["IRC"])
    irc.send("USER onlyone", "USER u 0 * :")
    assert code(irc.next()) == "461"
    assert code(irc.next()) == "461"
    irc.close()


def test_line_split_byte_by_byte(ircServer: ServerProcess) -> None:
    """
    Every byte in its own write, a multi-byte character among them.
    """
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "bea")
    irc = registered(ircServer.ports["IRC"], "bart")
    data = "PRIVMSG #chatroom :çok güzel 李\r\n".encode()
    for i in range(len(data)):
        irc.sendRaw(data[i : i + 1])
    frame = tcp.next()
    while frame.startswith("C JOIN"):
        frame = tcp.next()
    assert frame == "D PM bart IRC çok güzel 李"
    irc.close()
    tcp.close()


def test_long_line_gets_417_and_lives(ircServer: ServerProcess) -> None:
    """
    A 600-byte line gets 417; the connection and the line after it live on.
    A room message longer than an IRC line reaches IRC as several lines.
    """
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "lena")
    irc = registered(ircServer.ports["IRC"], "leo")
    irc.send("@+big=" + "a" * 4096 + " PRIVMSG #chatroom :monster tags")
    assert code(irc.waitFor(" 417 ")) == "417"  # a client's tags are at most 4094 bytes
    irc.send("PRIVMSG #chatroom :" + "x" * 581, "PING :still here")
    assert len(("PRIVMSG #chatroom :" + "x" * 581).encode()) == 600
    assert code(irc.waitFor(" 417 ")) == "417"
    assert irc.next().endswith(":still here")
    tcp.send("C PING sync")
    frames = [tcp.next()]
    while frames[-1] != "C PONG sync":
        frames.append(tcp.next())
    assert not any(f.startswith("D ") for f in frames), frames  # nothing was relayed
    long = "ş" * 1500  # 3000 bytes
    tcp.send("C PM", f"D {long}")
    got = ""
    while len(got) < len(long):
        line = irc.waitFor("PRIVMSG")
        assert len(line.encode()) + 2 <= 512
        got += line.split(" :", 1)[1]
    assert got == long
    irc.close()
    tcp.close()


def test_in_order_while_the_password_is_hashed(ircServer: ServerProcess) -> None:
    """
    Everything pipelined behind PASS registration (hashed off the reactor)
    is answered after the welcome, in order.
    """
    irc = IRCClient(ircServer.ports["IRC"])
    irc.send(
        "PASS pipelined",
        "NICK piper",
        "USER u 0 * :R",
        "JOIN #chatroom",
        "PRIVMSG #chatroom :first",
        "PING :one",
        "NAMES #chatroom",
        "PING :two",
    )
    lines = irc.until(":two")
    codes = [irc.command(line).split(" ")[0] for line in lines]
    assert codes.index("001") < codes.index("376") < codes.index("JOIN") < codes.index("PONG")
    pongs = [line for line in lines if " PONG " in line]
    assert [p.rsplit(":", 1)[1] for p in pongs] == ["one", "two"]
    assert codes.index("366") < len(codes) - 1
    irc.close()


def test_labeled_response_and_batch(ircServer: ServerProcess) -> None:
    """
    IRCv3 labeled-response: one line answered carries the label, several
    come in a labeled-response batch, none gets ACK; echo-message's echo
    is the answer to a labeled PRIVMSG.
    """
    caps = "labeled-response batch echo-message message-tags"
    irc = registered(ircServer.ports["IRC"], "lara", caps=caps)
    irc.send("@label=one PING :x")
    assert irc.next() == "@label=one :irc.test PONG irc.test :x"
    irc.send("@label=two WHOIS lara")
    opening = irc.next()
    assert opening.startswith("@label=two :irc.test BATCH +")
    assert opening.endswith(" labeled-response")
    ref = opening.split(" ")[3][1:]
    inside = irc.until(f"BATCH -{ref}")
    assert all(line.startswith(f"@batch={ref} ") for line in inside[:-1])
    assert [line.split(" ")[2] for line in inside[:-1]] == ["311", "319", "312", "330", "318"]
    irc.send("@label=three PONG :x")
    assert irc.next() == "@label=three :irc.test ACK"
    irc.send("@label=four;+draft/reply=x PRIVMSG #chatroom :labeled")
    echoed = irc.next()
    assert echoed.startswith("@label=four;msgid=") and echoed.endswith("PRIVMSG #chatroom :labeled")
    assert ";+draft/reply=x :lara!" in echoed  # the client-only tag, echoed
    irc.send("@+typing=active TAGMSG #chatroom", "PING :after")
    tagged = irc.next()  # echoed, as message-tags and echo-message were negotiated
    assert tagged.startswith("@msgid=") and tagged.endswith(
        ";+typing=active :lara!u@127.0.0.1 TAGMSG #chatroom"
    )
    assert irc.next().endswith(":after")
    irc.close()


def test_chathistory(ircServer: ServerProcess) -> None:
    """
    draft/chathistory from the room's history: LATEST, BEFORE and AFTER by
    time, in a chathistory batch, each message with its time; nothing on
    join; a nick's history is empty; a bad request gets FAIL.
    """
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "hilda")
    for text in ("past one", "past two", "past three"):
        tcp.send("C PM", f"D {text}")
        tcp.next()
        tcp.next()
        time.sleep(0.01)  # each its own millisecond: times are the references
    caps = "draft/chathistory batch server-time"
    irc = registered(ircServer.ports["IRC"], "hank", caps=caps)
    assert not any("past" in line for line in irc.seen)
    irc.send("CHATHISTORY LATEST #chatroom * 2")
    got = irc.until("BATCH -")
    assert " BATCH +" in got[0] and got[0].endswith(" chathistory #chatroom")
    texts = [line.rsplit(" :", 1)[1] for line in got[1:-1]]
    assert texts == ["past two", "past three"]
    when = got[1].split(";")[0].removeprefix("@time=")
    assert got[1].startswith("@time=") and " :hilda!TCP@TCP PRIVMSG #chatroom :" in got[1]
    irc.send(f"CHATHISTORY BEFORE #chatroom timestamp={when} 10")
    got = irc.until("BATCH -")
    assert [line.rsplit(" :", 1)[1] for line in got[1:-1]][-1] == "past one"
    irc.send(f"CHATHISTORY AFTER #chatroom timestamp={when} 10")
    got = irc.until("BATCH -")
    assert [line.rsplit(" :", 1)[1] for line in got[1:-1]] == ["past three"]
    irc.send("CHATHISTORY LATEST hilda * 10")
    assert len(irc.until("BATCH -")) == 2
    irc.send("CHATHISTORY SIDEWAYS #chatroom * 10")
    assert irc.next().startswith(":irc.test FAIL CHATHISTORY INVALID_PARAMS")
    irc.close()
    tcp.close()
