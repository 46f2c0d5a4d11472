"""
IRCv3 message-tags through the IRC door, over a real server process:
client-only tags reach the IRC users that negotiated message-tags (and the
sender's echo) and nobody else, a C{msgid} is the same for every recipient
and the echo of one message and differs between messages, C{TAGMSG} goes to
the channel and to a nick among IRC users only, and a TCP user still gets
the text.
"""

from __future__ import annotations

import irctokens
from helpers.ircwire import IRCClient, registered
from helpers.wire import BlockingClient, ServerProcess, blockingLoggedIn

TAGGED = "message-tags echo-message"


def tagsOf(line: str) -> dict[str, str]:
    return dict(irctokens.tokenise(line).tags or {})


def synced(irc: IRCClient, token: str) -> list[str]:
    """
    Every line the client got before the answer to a C{PING}: what reached
    it and nothing later.
    """
    irc.send(f"PING :{token}")
    return irc.until(f":{token}")[:-1]


def tcpSynced(tcp: BlockingClient) -> list[str]:
    frames: list[str] = []
    tcp.send("C PING")
    for _ in range(50):
        frame = tcp.next()
        if frame.startswith("C PONG"):
            return frames
        frames.append(frame)
    raise AssertionError(f"no C PONG; got {frames}")


def joinAll(port: int, *specs: tuple[str, str]) -> list[IRCClient]:
    clients = [registered(port, nick, caps=caps) for nick, caps in specs]
    for i, client in enumerate(clients):
        synced(client, f"joined{i}")  # the JOINs of those after it
    return clients


def test_client_tags_reach_tagged_recipients_and_echo(ircServer: ServerProcess) -> None:
    """
    A PRIVMSG with a client-only tag (and a server tag it may not set): the
    recipient with message-tags gets the client tag and a msgid, not the
    server tag; one without gets no tags at all; the echo carries the same
    tag and msgid; the TCP user gets the text.
    """
    port = ircServer.ports["IRC"]
    alma, bert, cleo = joinAll(port, ("alma", TAGGED), ("bert", "message-tags"), ("cleo", ""))
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "tove")
    for i, irc in enumerate((alma, bert, cleo)):
        synced(irc, f"tove{i}")
    alma.send("@+draft/react=👍;fake=1 PRIVMSG #chatroom :hello tags")
    echo = alma.waitFor(":hello tags")
    got = bert.waitFor(":hello tags")
    plainLine = cleo.waitFor(":hello tags")
    assert tagsOf(got)["+draft/react"] == "👍", got
    assert "fake" not in tagsOf(got)
    assert tagsOf(got)["msgid"]
    assert tagsOf(echo)["+draft/react"] == "👍", echo
    assert tagsOf(echo)["msgid"] == tagsOf(got)["msgid"]
    assert plainLine.startswith(":alma!"), plainLine  # no tags for cleo
    assert tcp.next() == "D PM alma IRC hello tags"
    # A second message has another id; a NOTICE stays a NOTICE and keeps its tags.
    alma.send("@+x=y NOTICE #chatroom :again")
    second = bert.waitFor(":again")
    assert bert.command(second) == "NOTICE #chatroom :again"
    assert tagsOf(second)["+x"] == "y"
    assert tagsOf(second)["msgid"] != tagsOf(got)["msgid"]
    assert "+draft/react" not in tagsOf(second)
    for irc in (alma, bert, cleo):
        irc.close()
    tcp.close()


def test_msgid_of_another_doors_message(ircServer: ServerProcess) -> None:
    """
    A TCP user's public message has one msgid for every IRC recipient with
    message-tags, and none for a recipient without.
    """
    port = ircServer.ports["IRC"]
    dara, egon, fina = joinAll(port, ("dara", "message-tags"), ("egon", TAGGED), ("fina", ""))
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "tilo")
    for i, irc in enumerate((dara, egon, fina)):
        synced(irc, f"tilo{i}")
    tcp.send("C PM", "D from tcp")
    first = [irc.waitFor(":from tcp") for irc in (dara, egon, fina)]
    assert tagsOf(first[0])["msgid"] == tagsOf(first[1])["msgid"]
    assert not first[2].startswith("@"), first[2]
    tcp.send("C PM", "D from tcp again")
    again = dara.waitFor(":from tcp again")
    assert tagsOf(again)["msgid"] != tagsOf(first[0])["msgid"]
    for irc in (dara, egon, fina):
        irc.close()
    tcp.close()


def test_direct_message_tags_and_label(ircServer: ServerProcess) -> None:
    """
    A labeled PRIVMSG to a nick: the echo carries the label, the client tag
    and the msgid; the recipient the tag and the same msgid, not the label;
    a recipient without message-tags gets the bare line, a TCP user the
    text.
    """
    port = ircServer.ports["IRC"]
    caps = "message-tags echo-message labeled-response batch"
    gabi = registered(port, "gabi", caps=caps, join=False)
    hugo = registered(port, "hugo", caps="message-tags", join=False)
    ines = registered(port, "ines", join=False)
    gabi.send("@label=L1;+example=value PRIVMSG hugo :psst")
    echo = gabi.waitFor(":psst")
    got = hugo.waitFor(":psst")
    assert tagsOf(echo)["label"] == "L1"
    assert tagsOf(echo)["+example"] == "value"
    assert "label" not in tagsOf(got)
    assert tagsOf(got)["+example"] == "value"
    assert tagsOf(got)["msgid"] == tagsOf(echo)["msgid"]
    gabi.send("@+example=value PRIVMSG ines :psst too")
    bare = ines.waitFor(":psst too")
    assert bare == ":gabi!u@127.0.0.1 PRIVMSG ines :psst too", bare
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "tess")
    gabi.send("@+example=value PRIVMSG tess :to tcp")
    assert tcp.next() == "D DM gabi IRC to tcp"
    for irc in (gabi, hugo, ines):
        irc.close()
    tcp.close()


def test_tagmsg_to_channel(ircServer: ServerProcess) -> None:
    """
    TAGMSG to the channel reaches the joined IRC users with message-tags
    (same msgid as the echo, the client tags, not the label); not those
    without, and not the TCP user.
    """
    port = ircServer.ports["IRC"]
    caps = "message-tags echo-message labeled-response"
    jana, karl, lena = joinAll(port, ("jana", caps), ("karl", "message-tags"), ("lena", ""))
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "timo")
    for i, irc in enumerate((jana, karl, lena)):
        synced(irc, f"timo{i}")
    jana.send(r"@label=T1;+typing=active;+note=a\sb;server=no TAGMSG #chatroom")
    echo = jana.waitFor("TAGMSG")
    got = karl.waitFor("TAGMSG")
    assert jana.command(echo) == "TAGMSG #chatroom"
    assert tagsOf(echo)["label"] == "T1"
    assert tagsOf(got)["+typing"] == "active"
    assert tagsOf(got)["+note"] == "a b"
    assert "server" not in tagsOf(got) and "label" not in tagsOf(got)
    assert tagsOf(got)["msgid"] == tagsOf(echo)["msgid"]
    assert got.split(" ")[1].startswith(":jana!"), got
    assert synced(lena, "lena-after") == []
    assert tcpSynced(tcp) == []
    for irc in (jana, karl, lena):
        irc.close()
    tcp.close()


def test_tagmsg_to_nick(ircServer: ServerProcess) -> None:
    """
    TAGMSG to an IRC nick reaches it; to oneself it comes twice with
    echo-message (delivery and echo); to a TCP user only the echo comes
    back and the TCP user gets nothing; to nobody, 401; outside the
    channel, 404.
    """
    port = ircServer.ports["IRC"]
    mona = registered(port, "mona", caps=TAGGED, join=False)
    nils = registered(port, "nils", caps="message-tags", join=False)
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "tara")
    mona.send("@+react=ok TAGMSG nils")
    echo = mona.waitFor("TAGMSG")
    got = nils.waitFor("TAGMSG")
    assert nils.command(got) == "TAGMSG nils"
    assert tagsOf(got)["+react"] == "ok"
    assert tagsOf(got)["msgid"] == tagsOf(echo)["msgid"]
    mona.send("@+react=me TAGMSG mona")
    both = [line for line in synced(mona, "self") if "TAGMSG" in line]
    assert len(both) == 2, both
    assert tagsOf(both[0])["msgid"] == tagsOf(both[1])["msgid"]
    mona.send("@+react=tcp TAGMSG tara")
    toTcp = synced(mona, "tcp")
    assert [mona.command(line) for line in toTcp] == ["TAGMSG tara"], toTcp
    assert tcpSynced(tcp) == []
    mona.send("@+react=x TAGMSG nobody-here")
    assert " 401 mona nobody-here " in mona.waitFor(" 401 ")
    mona.send("@+react=x TAGMSG #chatroom")
    assert " 404 " in mona.waitFor(" 404 ")
    mona.send("TAGMSG")
    assert " 461 " in mona.waitFor(" 461 ")
    for irc in (mona, nils):
        irc.close()
    tcp.close()


def test_client_tags_too_long(ircServer: ServerProcess) -> None:
    """
    A tag section over the 4094 bytes a client may send gets 417 and is
    not relayed; one at the limit is relayed intact.
    """
    port = ircServer.ports["IRC"]
    olga, paul = joinAll(port, ("olga", TAGGED), ("paul", "message-tags"))
    atLimit = "@+big=" + "a" * (4094 - len("+big=")) + " TAGMSG #chatroom"
    olga.send(atLimit)
    got = paul.waitFor("TAGMSG")
    assert tagsOf(got)["+big"] == "a" * 4089
    olga.send("@+big=" + "a" * 4090 + " PRIVMSG #chatroom :too much")
    assert " 417 " in olga.waitFor(" 417 ")
    assert synced(paul, "paul-after") == []
    for irc in (olga, paul):
        irc.close()
