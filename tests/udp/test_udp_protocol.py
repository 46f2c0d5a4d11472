"""
The UDP protocol object with a fake clock and a recording transport: the
limits that make spoofed traffic harmless.
"""

from __future__ import annotations

from collections import Counter

import pytest
from twisted.internet.task import Clock

from chatroom.datagrams import parseDatagram
from chatroom.room import Room
from chatroom.udp import ChatDatagramProtocol, UDPTimings
from chatroom.udp.channel import ChannelState
from chatroom.udp.handshake import PROVISIONAL_BYTES, PROVISIONAL_FRAMES, PROVISIONAL_LIMIT

TIMINGS = UDPTimings()


class RecordingTransport:
    def __init__(self) -> None:
        self.written: list[tuple[bytes, tuple[str, int]]] = []

    def write(self, data: bytes, addr: tuple[str, int]) -> None:
        self.written.append((data, addr))

    def getHandle(self) -> RecordingTransport:
        return self  # the protocol sends on the socket itself

    sendto = write


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def udp(clock):
    service = Room(clock, accounts=None)
    service.startService()
    protocol = ChatDatagramProtocol(service, clock, UDPTimings(idleTimeout=60))
    protocol.transport = RecordingTransport()
    protocol.startProtocol()
    return protocol


def advance(clock, seconds, step=0.025):
    for _ in range(round(seconds / step)):
        clock.advance(step)


def test_a_flood_from_many_addresses_stays_bounded(udp, clock):
    """
    Spoofed LOGINs from 5,000 addresses: at most 1,024 are remembered, none
    reserves a name, each address gets at most three small datagrams, and
    all are forgotten after ten seconds.
    """
    for i in range(5000):
        for n in range(3):
            udp.datagramReceived(
                b"%d C LOGIN user%d" % (n, i), (f"10.0.{i // 250}.{i % 250}", 5000)
            )
    assert len(udp.handshakes.provisional) == PROVISIONAL_LIMIT
    advance(clock, 2)
    perAddress = Counter(addr for _, addr in udp.transport.written)
    assert len(perAddress) == PROVISIONAL_LIMIT
    assert max(perAddress.values()) == 3  # one HELLO and two repeats, no more
    assert all(parseDatagram(d)[1] == b"C HELLO chatroom 1 UDP" for d, _ in udp.transport.written)
    assert all(len(d) < 40 for d, _ in udp.transport.written)
    assert udp.service.roster.reserved == {} and udp.service.sessions == set()
    advance(clock, TIMINGS.provisionalLifetime)
    assert udp.handshakes.provisional == {}
    udp.transport.written.clear()
    udp.datagramReceived(b"1 C LOGIN late", ("10.9.9.9", 1))
    assert len(udp.transport.written) == 1  # room again once the old ones expired


def test_provisional_sessions_buffer_little_and_acknowledge_nothing(udp, clock):
    addr = ("192.0.2.7", 4000)
    udp.datagramReceived(b"10 C LOGIN eve", addr)
    for seq in range(11, 11 + 50):
        udp.datagramReceived(b"%d C PING x" % seq, addr)
    udp.datagramReceived(b"A 12345", addr)  # a wrong guess at the HELLO number
    assert len(udp.handshakes.provisional[addr].frames) == PROVISIONAL_FRAMES
    assert [parseDatagram(d)[1] for d, _ in udp.transport.written] == [b"C HELLO chatroom 1 UDP"]


def test_only_a_login_starts_a_session(udp):
    for data in [b"1 C PING", b"1 D hi", b"1 C LOGINX", b"A 1", b"garbage", b""]:
        udp.datagramReceived(data, ("192.0.2.8", 1))
    assert udp.handshakes.provisional == {} and udp.transport.written == []


def test_idle_sessions_time_out(udp, clock):
    addr = ("192.0.2.9", 9)
    udp.datagramReceived(b"5 C LOGIN idler", addr)
    helloSeq = parseDatagram(udp.transport.written[0][0])[0]
    udp.datagramReceived(b"A %d" % helloSeq, addr)
    assert "idler" in {s.name for s in udp.service.roster.online.values()}
    welcome = next(d for d, _ in udp.transport.written if b"WELCOME" in d)
    udp.datagramReceived(b"A %d" % parseDatagram(welcome)[0], addr)
    advance(clock, 59)
    udp.datagramReceived(b"6 C PING", addr)  # any frame keeps it alive
    pong = next(d for d, _ in udp.transport.written if d.endswith(b" C PONG"))
    udp.datagramReceived(b"A %d" % parseDatagram(pong)[0], addr)
    advance(clock, 59)
    assert udp.service.roster.online
    advance(clock, 2)
    assert udp.service.roster.online == {} and udp.channels == {}


def prove(udp, addr, name="kim", first=100):
    """
    A session logged in over UDP; returns its channel.
    """
    udp.datagramReceived(b"%d C LOGIN %s" % (first, name.encode()), addr)
    hello = parseDatagram(udp.transport.written[-1][0])[0]
    udp.datagramReceived(b"A %d" % hello, addr)
    return udp.channels[addr]


def test_datagrams_from_port_zero_are_ignored(udp):
    udp.datagramReceived(b"1 C LOGIN zero", ("10.0.0.1", 0))
    assert udp.handshakes.provisional == {} and udp.transport.written == []


def test_a_failing_send_is_a_loss_and_the_timer_survives(udp, clock):
    """
    sendto can fail (a full buffer, an address the kernel refuses): that is
    a lost datagram, never an error that stops the one shared timer.
    """
    addr = ("192.0.2.20", 2000)

    def refuse(data, to):
        raise OSError(22, "Invalid argument")

    udp._sendto = refuse
    udp.datagramReceived(b"5 C LOGIN lossy", addr)
    advance(clock, 1)
    assert udp.ticker.running
    assert addr in udp.handshakes.provisional


def test_oversize_frames_are_not_kept_whole(udp):
    addr = ("192.0.2.21", 2100)
    udp.datagramReceived(b"10 C LOGIN big", addr)
    for seq in range(11, 19):
        udp.datagramReceived(b"%d D " % seq + b"x" * 60000, addr)
    kept = udp.handshakes.provisional[addr].frames
    assert sum(map(len, kept.values())) <= PROVISIONAL_BYTES


def test_the_same_login_gets_the_same_hello_number(udp, clock):
    """
    If every acknowledgement of a HELLO is lost, the provisional session
    expires and the client's LOGIN makes a new one: it must carry the HELLO
    number the client may already have learnt.
    """
    addr = ("192.0.2.22", 2200)
    udp.datagramReceived(b"42 C LOGIN again", addr)
    first = parseDatagram(udp.transport.written[0][0])
    advance(clock, TIMINGS.provisionalLifetime + 1)
    assert udp.handshakes.provisional == {}
    udp.transport.written.clear()
    udp.datagramReceived(b"42 C LOGIN again", addr)
    assert parseDatagram(udp.transport.written[0][0]) == first
    udp.datagramReceived(b"43 C LOGIN again", ("192.0.2.23", 2200))
    assert parseDatagram(udp.transport.written[-1][0]) != first  # other sessions differ


def test_a_closing_session_cannot_be_kept_alive_with_bogus_acks(udp, clock):
    addr = ("192.0.2.24", 2400)
    channel = prove(udp, addr, "stubborn")
    udp.datagramReceived(b"101 C EX", addr)  # BYE sent; never acknowledged
    assert channel.state is ChannelState.CLOSING
    for _ in range(int(TIMINGS.closeLimit / 2) + 2):
        udp.datagramReceived(b"A 0", addr)  # acknowledges nothing we sent
        advance(clock, 2)
    assert addr not in udp.channels


def test_bogus_acks_do_not_keep_an_idle_session(udp, clock):
    addr = ("192.0.2.25", 2500)
    prove(udp, addr, "idler2")
    welcome = next(d for d, _ in udp.transport.written if b"WELCOME" in d)
    udp.datagramReceived(b"A %d" % parseDatagram(welcome)[0], addr)
    for _ in range(35):
        udp.datagramReceived(b"A 1", addr)
        advance(clock, 2)
    assert addr not in udp.channels  # 60 s without real traffic


def test_resends_from_all_sessions_share_one_budget_per_tick(udp, clock):
    """
    A thousand sessions whose frames all time out at once resend a bounded
    number per tick, and every session gets its turn.
    """
    sessions = 200
    for i in range(sessions):
        prove(udp, (f"10.1.{i // 250}.{i % 250}", 3000), f"user{i}", first=10)
    for channel in udp.channels.values():
        for n in range(20):
            channel.send(b"C PONG %d" % n)  # never acknowledged
    udp.transport.written.clear()
    advance(clock, 0.2 + TIMINGS.tick)
    perTick = []
    for _ in range(12):
        before = len(udp.transport.written)
        advance(clock, TIMINGS.tick)
        perTick.append(len(udp.transport.written) - before)
    assert max(perTick) <= TIMINGS.resendsPerTick
    resent = {addr for _, addr in udp.transport.written}
    assert len(resent) == sessions  # nobody starved


def test_a_phase_that_always_raises_does_not_stop_idle_timeouts(udp, clock):
    """
    One persistent bug in one phase of the shared timer is logged once, and
    the other phases (here the idle timeout) go on every tick.
    """
    from twisted.logger import globalLogPublisher

    def broken(now: float) -> None:
        raise RuntimeError("a bug in one phase")

    udp.ticker.phases.insert(0, ("broken", broken))
    logged = []
    globalLogPublisher.addObserver(logged.append)
    try:
        addr = ("192.0.2.30", 3000)
        prove(udp, addr, "quiet")
        welcome = next(d for d, _ in udp.transport.written if b"WELCOME" in d)
        udp.datagramReceived(b"A %d" % parseDatagram(welcome)[0], addr)
        advance(clock, 61)
    finally:
        globalLogPublisher.removeObserver(logged.append)
    assert addr not in udp.channels and udp.service.roster.online == {}
    assert udp.ticker.running
    failures = [e for e in logged if e.get("log_failure") is not None]
    assert len(failures) == 1 and failures[0]["log_failure"].check(RuntimeError)


def test_shutdown_waits_the_grace_it_was_given_for_an_unanswered_bye(clock):
    service = Room(clock, accounts=None)
    service.startService()
    udp = ChatDatagramProtocol(service, clock, UDPTimings(shutdownGrace=0.5, tick=0.025))
    udp.transport = RecordingTransport()
    udp.startProtocol()
    addr = ("192.0.2.31", 3100)
    prove(udp, addr, "deaf")  # never acknowledges anything
    done = udp.shutDown()
    service.stopService()  # says BYE, which is never acknowledged
    assert not done.called
    udp.datagramReceived(b"1 C LOGIN late", ("192.0.2.32", 1))
    assert len(udp.handshakes) == 0  # no new sessions while shutting down
    advance(clock, 0.45)
    assert not done.called
    advance(clock, 0.1)
    assert done.called and udp.channels == {}


def test_shutdown_ends_as_soon_as_every_bye_is_acknowledged(clock):
    service = Room(clock, accounts=None)
    service.startService()
    udp = ChatDatagramProtocol(service, clock, UDPTimings(shutdownGrace=5))
    udp.transport = RecordingTransport()
    udp.startProtocol()
    addr = ("192.0.2.33", 3300)
    prove(udp, addr, "polite")
    done = udp.shutDown()
    service.stopService()
    for data, _ in list(udp.transport.written):
        parsed = parseDatagram(data)
        if parsed and parsed[1] is not None:
            udp.datagramReceived(b"A %d" % parsed[0], addr)
    assert done.called and udp.channels == {}
