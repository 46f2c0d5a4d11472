from __future__ import annotations

import pytest

from chatroom import codec
from chatroom.codec import Frame, FrameError


@pytest.mark.parametrize(
    "line, frame",
    [
        (b"C LOGIN alice", Frame("C", "LOGIN", "alice")),
        (b"C PASS correct horse ", Frame("C", "PASS", "correct horse ")),
        (b"C PM", Frame("C", "PM", "")),
        (b"D", Frame("D", "", "")),
        (b"D ", Frame("D", "", "")),
        (b"D bob see  you", Frame("D", "", "bob see  you")),
        ("D Gökhan\tçay".encode(), Frame("D", "", "Gökhan\tçay")),
        (b"C pm", Frame("C", "pm", "")),  # shaped like a verb or not, the service decides
    ],
)
def test_decode(line, frame):
    assert codec.decode(line) == frame


@pytest.mark.parametrize(
    "line, code, kind",
    [
        (b"", "BAD_FRAME", None),
        (b"X hi", "BAD_FRAME", None),
        (b"c PM", "BAD_FRAME", None),
        (b"CPM", "BAD_FRAME", "C"),
        (b"Dhello", "BAD_FRAME", "D"),
        (b"C", "BAD_FRAME", "C"),
        (b"C  PM", "BAD_FRAME", "C"),
        (b"D \xff", "BAD_FRAME", "D"),
        (b"D \x1b[31mred", "BAD_FRAME", "D"),
        (b"D a\rb", "BAD_FRAME", "D"),
        (b"D \x7f", "BAD_FRAME", "D"),
        ("D \u009b".encode(), "BAD_FRAME", "D"),
        (b"D " + b"x" * 4095, "TOO_LONG", "D"),
    ],
)
def test_decode_rejects(line, code, kind):
    with pytest.raises(FrameError) as caught:
        codec.decode(line)
    assert (caught.value.code, caught.value.kind) == (code, kind)


def test_limits_are_in_bytes():
    assert codec.decode(b"D " + b"x" * 4094).rest == "x" * 4094
    two = "é" * 2047  # 4094 bytes
    assert codec.decode(f"D {two}".encode()).rest == two
    with pytest.raises(FrameError):
        codec.decode(f"D {two}é".encode())
    assert codec.decode(b"D " + b"x" * 5000, limit=codec.MAX_SERVER_FRAME).kind == "D"


def test_words():
    assert Frame("D", "", "bob see you").words(1) == ["bob", "see you"]
    assert Frame("D", "", "bob").words(1) == ["bob"]
    assert Frame("D", "", "").words(1) == []


def test_encode():
    assert codec.command("OK", "PM", "3") == b"C OK PM 3"
    assert codec.command("PONG") == b"C PONG"
    assert codec.data("PM", "Şule", "UDP", "hi there") == "D PM Şule UDP hi there".encode()
