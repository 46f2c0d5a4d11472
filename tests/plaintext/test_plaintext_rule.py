"""
The rule of C{--plaintext-logins} without I/O: which addresses are this
machine's, and which sessions may send a password in clear; and the room
answering C{C LOGIN} on a fake channel from another address.
"""

from __future__ import annotations

import pytest
from helpers.fakes import FakeChannel, ManualAccounts, feed
from twisted.internet.task import Clock

from chatroom.pipeline import Session
from chatroom.plaintext import PlaintextLogins, allows, isLoopback
from chatroom.room import Room
from chatroom.settings import RoomLimits


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.255.0.7", "::1", "::ffff:127.0.0.1", "::ffff:127.1.2.3", "::1%lo"],
)
def test_loopback_addresses(address: str) -> None:
    assert isLoopback(address)


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "192.168.1.20",
        "128.0.0.1",
        "::2",
        "fe80::1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible, long deprecated: not loopback
        "0.0.0.0",
        "localhost",  # a name is not an address
        "/tmp/chat.sock",
        "",
    ],
)
def test_other_addresses(address: str) -> None:
    assert not isLoopback(address)


W = PlaintextLogins


@pytest.mark.parametrize(
    "where, encrypted, loopback, allowed",
    [
        (W.ANYWHERE, False, False, True),
        (W.ANYWHERE, False, True, True),
        (W.ANYWHERE, True, False, True),
        (W.LOOPBACK, False, False, False),
        (W.LOOPBACK, False, True, True),
        (W.LOOPBACK, True, False, True),
        (W.NOWHERE, False, False, False),
        (W.NOWHERE, False, True, False),
        (W.NOWHERE, True, False, True),
        (W.NOWHERE, True, True, True),
    ],
)
def test_allows(where: W, encrypted: bool, loopback: bool, allowed: bool) -> None:
    assert allows(where, encrypted, loopback) is allowed


def _room(where: W, accounts: ManualAccounts | None) -> Room:
    room = Room(Clock(), accounts, limits=RoomLimits(plaintextLogins=where))
    room.startService()
    return room


@pytest.mark.parametrize(
    "host, encrypted, allowed",
    [
        ("10.0.0.1", False, False),
        ("::ffff:10.0.0.1", False, False),
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("::ffff:127.0.0.1", False, True),
        ("10.0.0.1", True, True),
    ],
)
def test_room_with_loopback_rule(host: str, encrypted: bool, allowed: bool) -> None:
    """
    C{loopback}: from another machine, C{C LOGIN} in clear is refused before
    the store is asked and the name is not held; the session goes on. The
    address is the door's report (a fake channel's here).
    """
    accounts = ManualAccounts()
    room = _room(W.LOOPBACK, accounts)
    channel = FakeChannel(f"{host}:5000", encrypted=encrypted)
    session = room.connect(channel)
    assert isinstance(session, Session)
    channel.take()  # HELLO
    feed(session, "C LOGIN alice GHOST")
    if allowed:
        assert len(accounts.waiting) == 1  # on its way: the store was asked
        accounts.release()
        assert channel.take() == ["C PASSWORD EXISTING"]
        return
    [refusal] = channel.take()
    assert refusal.startswith("C ERR INSECURE ") and "encrypted" in refusal
    assert accounts.waiting == []
    assert room.roster.holder("alice", None) is None
    assert room.counters.logins == {"insecure": 1}
    feed(session, "C PING x")
    assert channel.take() == ["C PONG x"]
    assert not channel.closed


def test_room_without_accounts_ignores_it() -> None:
    room = _room(W.NOWHERE, None)
    channel = FakeChannel("10.0.0.1:5000")
    session = room.connect(channel)
    assert session is not None
    channel.take()
    feed(session, "C LOGIN alice")
    assert channel.take()[0].startswith("C WELCOME alice TCP")
