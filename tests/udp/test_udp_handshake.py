"""
The HELLO handshake on its own: datagrams and times in, decisions out. No
socket, no reactor, no clock object: plain numbers.
"""

from __future__ import annotations

from chatroom.datagrams import parseDatagram
from chatroom.udp import UDPTimings
from chatroom.udp.handshake import (
    PROVISIONAL_BYTES,
    PROVISIONAL_FRAMES,
    PROVISIONAL_LIMIT,
    Handshakes,
)

ADDR = ("192.0.2.1", 4000)
HELLO = b"C HELLO chatroom 1 UDP"


def table(timings: UDPTimings | None = None) -> Handshakes:
    return Handshakes(b"k" * 16, timings or UDPTimings())


def test_only_a_numbered_login_begins_a_handshake():
    hs = table()
    for data in [
        *(b"1 C PING", b"1 D hi", b"1 C LOGINX", b"1 D LOGIN amy", b"1 C  LOGIN amy"),
        *(b"A 1", b"garbage", b"", b"C LOGIN x"),
    ]:
        assert hs.begin(ADDR, data, 0.0) is None
    assert len(hs) == 0
    greeting = hs.begin(ADDR, b"7 C LOGIN amy", 0.0)
    seq, frame = parseDatagram(greeting)
    assert frame == HELLO and seq == hs.helloNumber(ADDR, 7) and ADDR in hs


def test_a_login_that_will_not_decode_still_begins_a_handshake():
    """
    The session, once proven, answers such a login with C{C ERR}, as over TCP.
    """
    hs = table()
    for port, data in enumerate([b"1 C LOGIN", b"1 C LOGIN \xff", b"1 C LOGIN " + b"x" * 5000]):
        assert hs.begin((ADDR[0], port + 1), data, 0.0) is not None
    assert len(hs) == 3


def test_the_hello_number_is_keyed_and_repeatable():
    a, b = table(), Handshakes(b"x" * 16, UDPTimings())
    assert a.helloNumber(ADDR, 7) == a.helloNumber(ADDR, 7)
    assert a.helloNumber(ADDR, 7) != a.helloNumber(ADDR, 8)
    assert a.helloNumber(ADDR, 7) != a.helloNumber(("192.0.2.1", 4001), 7)
    assert a.helloNumber(ADDR, 7) != b.helloNumber(ADDR, 7)  # unguessable without the key
    assert all(0 <= a.helloNumber(ADDR, n) < 2**31 for n in range(100))


def test_only_the_right_ack_proves_the_session_with_its_frames_in_order():
    hs = table()
    greeting = hs.begin(ADDR, b"10 C LOGIN amy", 0.0)
    helloSeq = parseDatagram(greeting)[0]
    assert hs.follow(ADDR, b"12 C PING two") is None
    assert hs.follow(ADDR, b"11 C PASS pw") is None
    assert hs.follow(ADDR, b"A %d" % (helloSeq + 1)) is None  # a wrong guess
    assert hs.follow(ADDR, b"junk") is None
    proven = hs.follow(ADDR, b"A %d" % helloSeq)
    assert proven is not None and ADDR not in hs
    assert (proven.clientSeq, proven.serverSeq) == (10, helloSeq)
    assert proven.frames == {10: b"C LOGIN amy", 11: b"C PASS pw", 12: b"C PING two"}
    assert hs.follow(ADDR, b"A %d" % helloSeq) is None  # proven once


def test_a_provisional_session_keeps_little():
    hs = table()
    hs.begin(ADDR, b"10 C LOGIN amy", 0.0)
    for seq in range(11, 61):
        hs.follow(ADDR, b"%d C PING x" % seq)
    hs.follow(ADDR, b"5 C PING old")  # before its first number: not kept
    frames = hs.provisional[ADDR].frames
    assert len(frames) == PROVISIONAL_FRAMES and min(frames) == 10
    other = ("192.0.2.2", 1)
    hs.begin(other, b"10 C LOGIN big", 0.0)
    for seq in range(11, 19):
        hs.follow(other, b"%d D " % seq + b"x" * 3000)
    assert sum(map(len, hs.provisional[other].frames.values())) <= PROVISIONAL_BYTES


def test_the_table_is_bounded():
    hs = table()
    for i in range(PROVISIONAL_LIMIT):
        assert hs.begin((f"10.0.{i // 250}.{i % 250}", 1), b"1 C LOGIN x", 0.0) is not None
    assert hs.begin(ADDR, b"1 C LOGIN x", 0.0) is None
    assert len(hs) == PROVISIONAL_LIMIT


def test_hellos_are_repeated_twice_with_a_doubling_timer_then_expire():
    hs = table(UDPTimings(helloRTO=0.5, helloRetries=2, provisionalLifetime=10))
    greeting = hs.begin(ADDR, b"1 C LOGIN amy", 100.0)
    assert hs.resend(100.49) == []
    assert hs.resend(100.5) == [(greeting, ADDR)]  # after helloRTO
    assert hs.resend(101.49) == []
    assert hs.resend(101.5) == [(greeting, ADDR)]  # after twice that
    assert hs.resend(1000.0) == []  # no third repeat
    hs.expire(109.99)
    assert ADDR in hs
    hs.expire(110.0)
    assert ADDR not in hs


def test_expiry_goes_in_order_of_arrival_and_clear_forgets_all():
    hs = table(UDPTimings(provisionalLifetime=10))
    first, second = ("192.0.2.1", 1), ("192.0.2.2", 2)
    hs.begin(first, b"1 C LOGIN a", 0.0)
    hs.begin(second, b"1 C LOGIN b", 5.0)
    hs.expire(12.0)
    assert first not in hs and second in hs
    hs.clear()
    assert len(hs) == 0 and hs.resend(1000.0) == []
