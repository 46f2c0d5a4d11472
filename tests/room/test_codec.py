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


@pytest.mark.parametrize(
    ("line", "verb"),
    [
        (b"C LOGIN", "LOGIN"),
        (b"C LOGIN amy", "LOGIN"),
        (b"C LOGIN \xff\x00", "LOGIN"),  # judged by its head: it would not decode
        (b"C LOGINX", "LOGINX"),
        (b"C  LOGIN", ""),
        (b"D LOGIN", None),
        (b"CLOGIN", None),
        (b"", None),
    ],
)
def test_the_verb_is_read_from_the_head(line, verb):
    assert codec.verbOf(line) == verb


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


def test_a_short_list_is_one_frame():
    assert codec.listFrames("USERS", ["alice:TCP", "bob:UDP"]) == [b"C USERS alice:TCP bob:UDP"]
    exact = ["x" * (codec.MAX_LIST_FRAME - len("C USERS "))]
    assert codec.listFrames("USERS", exact) == [codec.command("USERS", *exact)]


def test_a_long_list_is_split_between_entries():
    """
    Every frame is at most 4096 bytes, all but the last say C{+}, and their
    entries, read in order, are the list (PROTOCOL.md 1.1, C{C USERS}).
    """
    entries = [chr(0x20100 + i) * 32 + ":TCP" for i in range(70)]  # 132 bytes each
    frames = codec.listFrames("USERS", entries)
    assert len(frames) == 3
    assert all(len(frame) <= codec.MAX_LIST_FRAME for frame in frames)
    assert all(frame.startswith(b"C USERS + ") for frame in frames[:-1])
    assert not frames[-1].startswith(b"C USERS +")
    read = [codec.decode(frame, codec.MAX_SERVER_FRAME).rest.split(" ") for frame in frames]
    assert [e for words in read[:-1] for e in words[1:]] + read[-1] == entries
    # Filled as far as entries allow: one more would not have fitted.
    assert len(frames[0]) + 1 + len(entries[0].encode()) > codec.MAX_LIST_FRAME


def test_no_frame_over_the_server_limit_is_ever_built():
    with pytest.raises(codec.FrameTooLong):
        codec.data("PM", "bob", "TCP", "x" * codec.MAX_SERVER_FRAME)
    with pytest.raises(codec.FrameTooLong):
        codec.listFrames("USERS", ["x" * codec.MAX_LIST_FRAME])
    longest = codec.data("DM", "\U00020100" * 32, "UDP", "x" * (codec.MAX_CLIENT_FRAME - 4))
    assert len(longest) < codec.MAX_SERVER_FRAME
