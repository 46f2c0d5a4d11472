"""
The IRC door's parser against the community's parser test data
(irc-parser-tests), and its line limits: bytes decoded only when whole.
"""

from __future__ import annotations

import pytest
from parser_tests.data import msg_split  # type: ignore[import-untyped]

from chatroom.irc import wire

CASES = msg_split["tests"]


@pytest.mark.parametrize("case", CASES, ids=[c["input"][:40] for c in CASES])
def test_msg_split(case: dict) -> None:
    line = wire.parse(case["input"].encode("utf-8"))
    assert line is not None
    atoms = case["atoms"]
    assert line.command == atoms["verb"].upper()
    assert line.params == atoms.get("params", [])
    assert line.source == atoms.get("source")
    assert (line.tags or None) == (atoms.get("tags") or None)


def test_lines_cut_only_when_whole() -> None:
    """
    A character split across reads arrives whole; a line over 512 bytes is
    reported once, and the line after it still comes.
    """
    got: list[bytes] = []
    long: list[bool] = []
    buffer = wire.LineBuffer(got.append, lambda: long.append(True))
    data = "PRIVMSG #c :ğü李\r\n".encode()
    for i in range(len(data)):
        buffer.feed(data[i : i + 1])
    assert got == ["PRIVMSG #c :ğü李".encode()]
    buffer.feed(b"PRIVMSG #c :" + b"x" * 600 + b"\r\nPING :after\r\n")
    assert long == [True]
    assert got[-1] == b"PING :after"
    tagged = b"@" + b"a=" + b"v" * 4000 + b" PRIVMSG #c :" + b"y" * 400
    buffer.feed(tagged + b"\n")
    assert got[-1] == tagged and long == [True]


def test_not_utf8() -> None:
    with pytest.raises(wire.BadLine):
        wire.parse(b"PRIVMSG #c :\xff\xfe")


def test_split_text_at_characters() -> None:
    pieces = wire.splitText("ş" * 300, 101)
    assert "".join(pieces) == "ş" * 300
    assert all(len(p.encode()) <= 101 for p in pieces)
