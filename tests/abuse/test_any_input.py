"""
Properties that must hold for any input: hypothesis drives the codec, the
service (several sessions sending random frames) and both protocol objects
(raw bytes and datagrams).
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import replace

from helpers.fakes import FakeChannel
from hypothesis import given
from hypothesis import strategies as st
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.address import IPv4Address
from twisted.internet.defer import fail, succeed
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from chatroom import codec, names
from chatroom.codec import FrameError
from chatroom.datagrams import parseDatagram
from chatroom.lifecycle import Phase
from chatroom.output import FLUSH_INTERVAL
from chatroom.room import Room
from chatroom.roster import Roster
from chatroom.settings import RoomLimits
from chatroom.tcp import ChatFactory
from chatroom.udp import ChatDatagramProtocol

RESPONSES = {"HELLO", "WELCOME", "PASSWORD", "ACK", "USERS", "OK", "ERR", "PONG", "BYE"}
text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f"), max_size=40
)


# The codec.


@given(st.binary(max_size=5000))
def test_decode_accepts_or_refuses_cleanly(line):
    try:
        frame = codec.decode(line)
    except FrameError as e:
        assert e.code in ("BAD_FRAME", "TOO_LONG")
    else:
        assert frame.kind in ("C", "D")
        assert codec.decode(line) == frame


@given(st.from_regex(r"[A-Z]{1,8}", fullmatch=True), st.lists(text, max_size=3))
def test_encoded_commands_decode_to_themselves(verb, parts):
    line = codec.command(verb, *parts)
    if len(line) <= codec.MAX_CLIENT_FRAME:
        frame = codec.decode(line)
        assert (frame.kind, frame.verb, frame.rest) == ("C", verb, " ".join(parts))


# The service, with several sessions at once.

NAMES = ["ann", "Ann", "bob", "BOB", "cy", "dee", "Ünal"]


class SyncAccounts:
    """
    Accounts that answer at once, so that logins go through PASSWORD.
    """

    def __init__(self) -> None:
        self.store = self
        self.passwords: dict[str, str] = {}

    def open(self):
        return succeed(None)

    def close(self):
        return succeed(None)

    def isRegistered(self, name: str):
        return succeed(names.key(name) in self.passwords)

    def login(self, name: str, password: str):
        if self.passwords.get(names.key(name)) == password:
            return succeed(name)
        return fail(UnauthorizedLogin())

    def register(self, name: str, password: str):
        self.passwords[names.key(name)] = password
        return succeed(name)

    def setPassword(self, name: str, password: str):
        self.passwords[names.key(name)] = password
        return succeed(None)


# Message texts must be unique to tell a message received twice from two
# messages; values drawn by hypothesis repeat on purpose, so count instead.
_serial = itertools.count()


@st.composite
def userAction(draw) -> list[str]:
    """
    What one user does next, as the frames it sends back to back.
    """
    unique = next(_serial)
    name = draw(st.sampled_from(NAMES))
    password = draw(st.sampled_from(["right", "wrong"]))
    return draw(
        st.sampled_from(
            [
                [f"C LOGIN {name}", f"C PASS {password}"],
                [f"C LOGIN {name}"],
                ["C PM", f"D pm{unique}"],
                ["C DM", f"D {name} dm{unique}"],
                ["C PM"],
                [f"D stray{unique}"],
                ["C WHO"],
                [f"C PING p{unique}"],
                ["C PASS right"],
                ["C PM", "D"],
                ["C EX"],
                ["C NOPE", "X junk", "C PM extra"],
                ["<close>"],
            ]
        )
    )


actions = st.lists(st.tuples(st.integers(0, 3), userAction()), min_size=10, max_size=60)


def checkPresence(service: Room) -> None:
    roster = service.roster
    assert isinstance(roster, Roster)  # the in-process one, whose tables are checked here
    keyed = []
    for s in service.sessions:
        if s.phase is Phase.ACTIVE:
            assert s.name is not None  # named on entering ACTIVE
            keyed.append((names.key(s.name), s))
    assert {key for key, _ in keyed} == set(roster.online)
    assert all(roster.online[key] is s for key, s in keyed)
    for key, session in roster.reserved.items():
        assert session in service.sessions
        assert session.phase not in (Phase.ACTIVE, Phase.ENDED) and key not in roster.online
        assert service.login.attempts[session].lookalikeKey == key


@given(withAccounts=st.booleans(), steps=actions)
def test_any_sequence_of_frames_from_several_sessions(withAccounts, steps):
    clock = Clock()
    service = Room(
        clock, SyncAccounts() if withAccounts else None, limits=replace(RoomLimits(), msgRate=0)
    )
    service.startService()
    failures = []
    service.failed = lambda failure, session: failures.append(failure)
    channels = [FakeChannel(f"10.0.0.{i}:1") for i in range(4)]
    sessions = [service.connect(c) for c in channels]
    handled = [1, 1, 1, 1]  # each session's requests so far (HELLO counts one)
    pings: dict[int, list[str]] = defaultdict(list)
    # Everyone starts in the room; then anything may happen.
    start = [
        (i, [f"C LOGIN start{i}", "C PASS right"] if withAccounts else [f"C LOGIN start{i}"])
        for i in range(4)
    ]
    for index, frames in start + steps:
        if sessions[index].phase is Phase.ENDED:  # whoever left comes back to act
            channels[index] = FakeChannel(f"10.0.0.{index}:{len(channels[index].sent)}")
            sessions[index] = service.connect(channels[index])
            handled[index] = 1
            pings[index] = []
        session = sessions[index]
        for action in frames:
            if action == "<close>":
                session.channelClosed("CLOSED")
                break
            if session.phase is Phase.ENDED:
                break
            handled[index] += 1
            if action.startswith("C PING "):
                pings[index].append(action[7:])
            session.lineReceived(action.encode())
        clock.advance(0.01)
        checkPresence(service)
    assert failures == []
    for index, channel in enumerate(channels):
        verbs = [f.split(" ")[1] for f in channel.sent if f.startswith("C ")]
        responses = [v for v in verbs if v in RESPONSES]
        # Every request answered exactly once...
        assert len(responses) == handled[index]
        # ...in order,
        pongs = [f[7:] for f in channel.sent if f.startswith("C PONG ")]
        assert pongs == pings[index]
        # and no message arrives twice.
        messages = [f.rsplit(" ", 1)[-1] for f in channel.sent if f.startswith("D ")]
        assert len(messages) == len(set(messages))


# Raw bytes into the TCP protocol.


def tcpSession(service, clock):
    protocol = ChatFactory(service, clock).buildProtocol(None)
    transport = StringTransport(peerAddress=IPv4Address("TCP", "192.0.2.1", 1))
    protocol.makeConnection(transport)
    return protocol, transport


#: Lines that are or look like C{C EX}, so that leaving is tried often, not
#: only when random bytes happen to spell it.
TCP_LINES = st.sampled_from(
    [
        b"C LOGIN fuzz\n",
        b"C PM\n",
        b"D hi\n",
        b"C WHO\n",
        b"C EX\n",
        b"C EX\r\n",
        b"C EX \n",
        b"C EX now\n",
        b"C ex\n",
        b"C  EX\n",
        b"D C EX\n",
        b"C EX\r\r\n",
        b"xC EX\n",
        b"C EX",
    ]
)

#: A C{C EX} line: the verb alone (a lone space after it leaves the argument empty).
EXIT_LINE = re.compile(rb"C EX ?")


def leaves(data: bytes) -> bool:
    """
    Whether C{data} holds a C{C EX} frame: a whole line, one C{\\r} before its
    C{\\n} not counted.
    """
    return any(EXIT_LINE.fullmatch(line.removesuffix(b"\r")) for line in data.split(b"\n"))


@given(st.lists(st.one_of(st.binary(max_size=600), TCP_LINES), max_size=20))
def test_tcp_bytes_never_break_the_server(chunks):
    """
    Whatever the bytes, the session answers afterwards unless it sent
    C{C EX}, and then it was told goodbye; another session is untouched.
    """
    clock = Clock()
    service = Room(clock, accounts=None, limits=replace(RoomLimits(), msgRate=0))
    service.startService()
    watcher, watched = tcpSession(service, clock)
    watcher.dataReceived(b"C LOGIN watcher\n")
    fuzzed, transport = tcpSession(service, clock)
    for chunk in chunks:
        fuzzed.dataReceived(chunk)
    fuzzed.dataReceived(b"\n")  # end whatever line was left open
    clock.advance(FLUSH_INTERVAL)
    # Only leaving ends a session, and leaving always does.
    assert transport.disconnecting == leaves(b"".join(chunks) + b"\n")
    if not transport.disconnecting:
        fuzzed.dataReceived(b"C PING alive\n")
        clock.advance(FLUSH_INTERVAL)  # the next flush: output is written
        assert transport.value().endswith(b"C PONG alive\r\n")
    else:
        assert transport.value().endswith(b"C BYE EXIT\r\n")
    clock.advance(FLUSH_INTERVAL)
    watched.clear()
    watcher.dataReceived(b"C PING still\n")
    clock.advance(FLUSH_INTERVAL)
    assert watched.value().endswith(b"C PONG still\r\n")


# Datagrams into the UDP protocol.


class Wire:
    def __init__(self) -> None:
        self.out: list[tuple[bytes, tuple[str, int]]] = []

    def write(self, data: bytes, addr: tuple[str, int]) -> None:
        self.out.append((data, addr))

    def getHandle(self) -> Wire:
        return self

    sendto = write


datagrams = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda n, b: b"%d " % n + b, st.integers(0, 2**33), st.binary(max_size=100)),
    st.builds(lambda n: b"A %d" % n, st.integers(0, 2**33)),
    st.builds(
        lambda n, t: b"%d C LOGIN %s" % (n, t), st.integers(0, 2**32), st.binary(max_size=20)
    ),
)


@given(st.lists(st.tuples(st.integers(0, 5), datagrams), max_size=40))
def test_udp_datagrams_never_break_the_server(sent):
    clock = Clock()
    service = Room(clock, accounts=None, limits=replace(RoomLimits(), msgRate=0))
    service.startService()
    udp = ChatDatagramProtocol(service, clock)
    udp.transport = Wire()
    udp.startProtocol()
    live = ("10.9.9.9", 999)
    udp.datagramReceived(b"777000 C LOGIN live", live)
    hello = parseDatagram(udp.transport.out[-1][0])[0]
    udp.datagramReceived(b"A %d" % hello, live)
    for index, datagram in sent:
        address = live if index == 5 else (f"10.0.0.{index}", 1000 + index)
        udp.datagramReceived(datagram, address)
        clock.advance(0.01)
    assert "live" in {s.name for s in service.roster.online.values()}
    udp.transport.out.clear()
    udp.datagramReceived(b"777001 C PING alive", live)
    replies = [parseDatagram(d) for d, addr in udp.transport.out if addr == live]
    assert (777001, None) in replies
    assert any(frame == b"C PONG alive" for _, frame in replies)
