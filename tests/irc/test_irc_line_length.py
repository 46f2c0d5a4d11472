"""
No line the IRC door writes is longer than IRC allows (512 bytes with its
terminator, tags aside; 8191 bytes of tags): a long message from another
door comes as several lines cut between characters, an IRC user's message
too long to relay as one line gets C{417}, and the free text of other lines
(a QUIT reason, an away message, a real name) is cut to fit. Over a real
server process, its lines read as bytes.
"""

from __future__ import annotations

import time

from helpers.ircwire import WAIT, IRCClient, registered
from helpers.wire import ServerProcess, blockingLoggedIn

from chatroom.irc import wire

#: A text whose byte-by-byte cuts fall inside characters of 2, 3 and 4 bytes.
MIXED = "aé€😃"


def rawLine(irc: IRCClient) -> bytes:
    """
    The next line as the server sent it, terminator included; it must be
    UTF-8 (the server advertises UTF8ONLY).
    """
    raw = irc.file.readline()
    if not raw:
        raise EOFError("the server closed the connection")
    irc.seen.append(raw.decode("utf-8"))
    return raw


def rawUntil(irc: IRCClient, text: bytes, count: int = 1) -> list[bytes]:
    """
    Every line up to the C{count}th holding C{text}, each at most 512
    bytes (tags aside).
    """
    lines: list[bytes] = []
    deadline = time.monotonic() + WAIT
    found = 0
    while found < count and time.monotonic() < deadline and len(lines) < 500:
        raw = rawLine(irc)
        assert bodyLength(raw) <= 512, raw
        lines.append(raw)
        if text in raw:
            found += 1
    assert found == count, lines
    return lines


def bodyLength(raw: bytes) -> int:
    if raw.startswith(b"@"):
        tags, _, raw = raw.partition(b" ")
        assert len(tags) + 1 <= wire.MAX_TAGS, tags
    return len(raw)


def textOf(raw: bytes) -> str:
    """
    The trailing parameter of a line.
    """
    line = raw.decode("utf-8").removesuffix("\r\n")
    if line.startswith("@"):
        line = line.partition(" ")[2]
    return line.partition(" :")[2]


def heardWhole(irc: IRCClient, marker: bytes, text: str) -> list[bytes]:
    """
    The lines holding C{marker} that together carry C{text}.
    """
    pieces: list[bytes] = []
    heard = ""
    while len(heard) < len(text) and len(pieces) < 100:
        raw = rawUntil(irc, marker)[-1]
        pieces.append(raw)
        heard += textOf(raw)
    assert heard == text
    return pieces


def test_long_message_from_tcp_comes_in_pieces(ircServer: ServerProcess) -> None:
    """
    A TCP user's public message and direct message, each far longer than an
    IRC line, reach an IRC user (with server-time and account-tag) as
    several whole lines, cut between characters, whose texts are the message.
    """
    irc = registered(ircServer.ports["IRC"], "piecer", caps="server-time account-tag")
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "longtalker")
    said = MIXED * 350  # 1,400 characters, 3,500 bytes
    assert len(said.encode()) < 4090
    tcp.send("C PM", f"D {said}")
    pieces = heardWhole(irc, b"PRIVMSG #chatroom :", said)
    assert len(pieces) >= 7  # 3,500 bytes in lines of less than 512
    for raw in pieces:
        assert raw.startswith(b"@"), raw  # each piece carries the tags
        assert b"account=longtalker" in raw.partition(b" ")[0], raw
        assert b" :longtalker!TCP@TCP PRIVMSG #chatroom :" in raw, raw
    # A direct message too, with spaces: cut after a space near the cut.
    words = " ".join(["mot€"] * 500)  # 3,500 bytes
    tcp.send("C DM", f"D piecer {words}")
    pieces = heardWhole(irc, b"PRIVMSG piecer :", words)
    assert all(textOf(raw).endswith(" ") for raw in pieces[:-1]), pieces
    irc.close()
    tcp.close()


def test_long_history_and_stored_messages_come_in_pieces(ircServer: ServerProcess) -> None:
    """
    A long message replayed by CHATHISTORY comes in pieces inside the
    batch, each with the batch and the message's time; a long direct message
    kept for an offline IRC user comes in pieces after its registration,
    each with the time it was sent.
    """
    port = ircServer.ports["IRC"]
    away = registered(port, "inboxer", join=False)
    away.send("QUIT :later")
    assert away.closed()
    tcp = blockingLoggedIn(ircServer.ports["TCP"], "historian")
    said = "😃é" * 500  # 3,000 bytes
    tcp.send("C PM", f"D {said}")
    kept = "€a " * 700  # 3,500 bytes
    tcp.send("C DM", f"D inboxer {kept}")
    deadline = time.monotonic() + WAIT
    while not tcp.next().startswith("C OK DM") and time.monotonic() < deadline:
        pass
    irc = IRCClient(port)
    irc.send("CAP LS 302", "CAP REQ :server-time draft/chathistory batch")
    irc.send("PASS secret", "NICK inboxer", "USER u 0 * :Real Name", "CAP END")
    pieces = heardWhole(irc, b" PRIVMSG inboxer :", kept)
    assert len(pieces) >= 8
    times = {raw.partition(b" ")[0] for raw in pieces}
    assert len(times) == 1 and next(iter(times)).startswith(b"@time="), times
    irc.send("CHATHISTORY LATEST #chatroom * 1")
    lines = rawUntil(irc, b"BATCH -")
    batch = next(raw for raw in lines if b" BATCH +" in raw).split(b" ")[2][1:]
    pieces = [raw for raw in lines if b" PRIVMSG #chatroom :" in raw]
    assert "".join(textOf(raw) for raw in pieces) == said
    assert len(pieces) >= 6
    for raw in pieces:
        tags = raw.partition(b" ")[0]
        assert b"batch=" + batch in tags and b"time=" in tags, raw
        assert b" :historian!TCP@TCP PRIVMSG #chatroom :" in raw, raw
    irc.close()
    tcp.close()


def test_longest_irc_message_comes_whole(ircServer: ServerProcess) -> None:
    """
    An IRC user's direct message to another IRC user, as long as fits one
    line when relayed from its C{nick!user@host}, comes whole in one line of
    512 bytes (a multi-byte character at its end), and so does its echo;
    one byte more gets C{417} and nothing is relayed, and the connection
    goes on.
    """
    port = ircServer.ports["IRC"]
    sender = registered(port, "longsender", caps="echo-message", join=False)
    hearer = registered(port, "longhearer", join=False)
    mask = "longsender!u@127.0.0.1"
    prefix = f":{mask} PRIVMSG longhearer :".encode()
    room = 512 - 2 - len(prefix)
    text = "a" * (room - 4) + "😃"
    sender.send(f"PRIVMSG longhearer :{text}")
    heard = rawUntil(hearer, b"PRIVMSG longhearer :")[-1]
    assert len(heard) == 512, heard
    assert heard == prefix + text.encode() + b"\r\n"
    echoed = rawUntil(sender, b"PRIVMSG longhearer :")[-1]
    assert echoed == heard
    # One byte more: refused, as the line it would be is too long.
    sender.send(f"PRIVMSG longhearer :a{text}", f"NOTICE longhearer :aa{text}", "PING :after")
    refused = rawUntil(sender, b" PONG ")
    assert sum(b" 417 longsender " in raw for raw in refused) == 2, refused
    assert not any(b"PRIVMSG" in raw or b"NOTICE longhearer" in raw for raw in refused)
    sender.send("PRIVMSG longhearer :short one")
    heard = rawUntil(hearer, b"PRIVMSG longhearer :")[-1]
    assert heard.endswith(b"PRIVMSG longhearer :short one\r\n"), heard
    sender.close()
    hearer.close()


def test_long_reasons_and_texts_are_cut(ircServer: ServerProcess) -> None:
    """
    A long real name (WHOIS 311), away message (301) and QUIT reason come
    cut between characters to fit one line, each the start of the text.
    """
    port = ircServer.ports["IRC"]
    realname = MIXED * 49  # 490 bytes: USER fits its 512
    talker = IRCClient(port)
    talker.send("PASS secret", "NICK cutter", f"USER u 0 * :{realname}", "JOIN #chatroom")
    talker.waitFor(" 366 ")
    watcher = registered(port, "cutwatcher")
    away = "😃" * 126  # 504 bytes: AWAY fits its 512
    talker.send(f"AWAY :{away}")
    talker.waitFor(" 306 ")
    watcher.send("WHOIS cutter")
    lines = rawUntil(watcher, b" 318 ")
    whois = next(raw for raw in lines if b" 311 " in raw)
    assert realname.startswith(textOf(whois)), whois
    assert len(textOf(whois)) > 100
    awayLine = next(raw for raw in lines if b" 301 " in raw)
    assert away.startswith(textOf(awayLine)), awayLine
    assert len(awayLine) > 500
    reason = MIXED * 49  # 490 bytes: QUIT fits its 512
    talker.send(f"QUIT :{reason}")
    quit = rawUntil(watcher, b" QUIT :")[-1]
    assert quit.startswith(b":cutter!u@127.0.0.1 QUIT :Quit: "), quit
    assert ("Quit: " + reason).startswith(textOf(quit)), quit
    assert len(quit) > 500
    watcher.close()


def test_fit_cuts_between_characters() -> None:
    """
    L{wire.fit} leaves a short line alone and cuts a long body at a
    character boundary, whatever its tags.
    """
    short = b":s 301 me them :away"
    assert wire.fit(short) == short
    long = ":s 301 me them :" + "😃" * 200
    for tags in ("", "@time=2026-01-01T00:00:00.000Z "):
        line = wire.fit((tags + long).encode())
        assert line.startswith(tags.encode())
        body = line[len(tags) :]
        assert 506 <= len(body) <= 510, len(body)
        assert long.startswith(body.decode("utf-8"))


def test_fit_keeps_tags_within_their_budget() -> None:
    """
    A tag section over 8191 bytes loses client-only tags first, then the
    last ones; the body is kept.
    """
    line = b"@label=x;+big=" + b"a" * 8190 + b";time=t :s PRIVMSG me :hi"
    tags, _, body = wire.fit(line).partition(b" ")
    assert tags == b"@label=x;time=t"
    assert body == b":s PRIVMSG me :hi"
    line = b"@label=" + b"b" * 8000 + b";time=" + b"t" * 400 + b" :s PRIVMSG me :hi"
    tags, _, body = wire.fit(line).partition(b" ")
    assert tags == b"@label=" + b"b" * 8000
    assert body == b":s PRIVMSG me :hi"


def test_split_text_joins_to_the_text() -> None:
    """
    L{wire.splitText}: pieces within the room, never inside a character,
    after a space near the cut, and the pieces joined are the text.
    """
    for text in (MIXED * 300, "word€ " * 300, "😃" * 100 + "a", "short"):
        for room in (4, 5, 7, 100, 400):
            pieces = wire.splitText(text, room)
            assert "".join(pieces) == text
            assert all(len(piece.encode()) <= room for piece in pieces), (text, room)
            assert all(piece for piece in pieces)
    pieces = wire.splitText("word€ " * 300, 100)
    assert all(piece.endswith(" ") for piece in pieces[:-1])
