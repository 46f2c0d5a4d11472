"""
labeled-response's answer shapes (unit): ACK for none, the label on one
line, a batch around several, and several as they are without C{batch}.
"""

from __future__ import annotations

from chatroom.irc.labels import labeled


def test_no_answer_is_an_ack() -> None:
    assert labeled([], "x1", "irc.test", None) == [b"@label=x1 :irc.test ACK"]


def test_one_line_carries_the_label() -> None:
    line = b":irc.test 303 ann :bob"
    assert labeled([line], "x2", "irc.test", "L1") == [b"@label=x2 " + line]


def test_several_lines_in_a_batch_or_as_they_are() -> None:
    lines = [b":irc.test 311 ann bob u h * :Bob", b":irc.test 318 ann bob :End of /WHOIS list"]
    assert labeled(lines, "x3", "irc.test", "L7") == [
        b"@label=x3 :irc.test BATCH +L7 labeled-response",
        b"@batch=L7 " + lines[0],
        b"@batch=L7 " + lines[1],
        b":irc.test BATCH -L7",
    ]
    assert labeled(lines, "x3", "irc.test", None) == lines
