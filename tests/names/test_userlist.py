"""
Long user lists (issue 9, item 9): C{C USERS} is split into frames of at
most 4096 bytes (PROTOCOL.md 1.1), so a crowded room neither goes over the
clients' 8192-byte limit nor over what one datagram can carry.

Names are 32 CJK Extension B ideographs, 4 bytes each in UTF-8: the longest
names there are. All are in one script (Han), none is in Unicode's
confusables list, and no two are alike, whatever the naming rules.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.wire import BlockingClient, BlockingUDP, ClientProcess, ServerProcess, twistdServer

ROOM = 70  # 70 * 133 bytes: over 8192 in one frame
CROWD = 560  # 560 * 133 bytes: over 65507, more than one datagram can carry
NOTICES = ("C JOIN ", "C LEAVE ")
LIST_FRAME = 4096  # the most a C USERS frame may hold (PROTOCOL.md 1.1)


def longName(number: int) -> str:
    """
    The name of user C{number}: 29 fixed ideographs, then 3 that count.
    """
    digits = []
    for _ in range(3):
        number, digit = divmod(number, 64)
        digits.append(chr(0x20400 + digit))
    return "".join(chr(0x20100 + i) for i in range(29)) + "".join(reversed(digits))


def tcpUser(port: int, name: str) -> BlockingClient:
    client = BlockingClient(port)
    client.send(f"C LOGIN {name}")
    client.expect("C HELLO chatroom 1 TCP")
    welcome = client.next()
    assert welcome.startswith(f"C WELCOME {name} TCP "), welcome
    return client


def nextBut(client: BlockingClient | BlockingUDP, notices: tuple[str, ...] = NOTICES) -> str:
    """
    The next frame that is not someone joining or leaving.
    """
    for _ in range(10 * CROWD):
        frame = client.next()
        if not frame.startswith(notices):
            return frame
    raise AssertionError("nothing but notices")


def readList(client: BlockingClient | BlockingUDP) -> tuple[list[str], int]:
    """
    One whole C{C USERS} list, however many frames it takes; checks that
    no frame is over 4096 bytes and that they come together. Returns its
    entries and how many frames.
    """
    entries: list[str] = []
    for count in range(1, 1000):
        frame = nextBut(client) if count == 1 else client.next()
        assert len(frame.encode("utf-8")) <= LIST_FRAME, frame[:80]
        verb, _, rest = frame.partition(" USERS ")
        assert verb == "C", frame[:80]
        if rest.startswith("+ "):
            entries += rest[2:].split(" ")
        else:
            return entries + rest.split(" "), count
    raise AssertionError("the list never ended")


class Room:
    def __init__(self, server: ServerProcess, users: list[BlockingClient], names: list[str]):
        self.server = server
        self.users = users
        self.names = names

    def close(self) -> None:
        for user in self.users:
            user.close()
        self.server.stop()


def crowd(directory, size: int) -> Room:
    # Every user comes from 127.0.0.1: lift the per-address limit.
    server = twistdServer(
        directory, "--no-accounts", "--max-clients", str(size + 10), "--max-per-ip", "0"
    )
    users: list[BlockingClient] = []
    try:
        names = [longName(number) for number in range(size)]
        for name in names:
            users.append(tcpUser(server.ports["TCP"], name))
    except BaseException:
        Room(server, users, []).close()
        raise
    return Room(server, users, names)


@pytest.fixture(scope="module")
def room(tmp_path_factory) -> Iterator[Room]:
    room = crowd(tmp_path_factory.mktemp("room"), ROOM)
    yield room
    room.close()


def test_users_in_frames_of_at_most_4096_bytes(room):
    """
    70 long names make 9,317 bytes: they come in several frames, entries
    whole and sorted, both for C{C WHO} and for C{C DM}; the DM then goes.
    """
    viewer = room.users[-1]
    expected = sorted(f"{name}:TCP" for name in room.names)
    viewer.send("C WHO")
    entries, frames = readList(viewer)
    assert entries == expected
    assert frames == 3
    viewer.send("C DM")
    assert readList(viewer)[0] == expected
    viewer.send(f"D {room.names[0]} hello there")
    viewer.expect(f"C OK DM {room.names[0]}")
    assert nextBut(room.users[0]) == f"D DM {room.names[-1]} TCP hello there"


@pytest.mark.parametrize("transport", ["TCP", "UDP"])
def test_chatclient_sends_a_direct_message_in_a_crowded_room(room, transport):
    """
    The real client gathers the split list at the DM prompt and goes on.
    """
    udp = transport == "UDP"
    target = room.names[7]
    client = ClientProcess(
        "127.0.0.1", str(room.server.ports[transport]), "reader", *(["--udp"] if udp else [])
    )
    try:
        client.waitFor("Operation [PM/DM/EX]:")
        client.type("DM")
        online = client.waitFor("Online: ")
        assert online.count("[TCP]") == ROOM
        client.type(target, "from the client")
        assert client.waitFor("Delivered to ").endswith(f" · Delivered to {target}.")
        assert nextBut(room.users[7]) == f"D DM reader {transport} from the client"
        client.type("EX")
        client.waitFor("Bye.")
        assert client.wait() == 0
    finally:
        client.stop()


def test_udp_user_gets_a_list_too_long_for_a_datagram(tmp_path):
    """
    With 560 long names the list is 74,487 bytes, more than one datagram
    can hold: a UDP user still gets it (in frames) for C{C WHO} and C{C DM},
    and the session goes on working afterwards.
    """
    room = crowd(tmp_path, CROWD)
    udp = BlockingUDP(room.server.ports["UDP"])
    try:
        udp.send("C LOGIN watcher")
        udp.expect("C HELLO chatroom 1 UDP")
        assert udp.next().startswith("C WELCOME watcher UDP ")
        expected = sorted([f"{name}:TCP" for name in room.names] + ["watcher:UDP"])
        udp.send("C WHO")
        entries, frames = readList(udp)
        assert entries == expected
        assert frames >= 19
        udp.send("C DM")
        assert readList(udp)[0] == expected
        udp.send(f"D {room.names[3]} still here")
        udp.expect(f"C OK DM {room.names[3]}")
        udp.send("C PM")
        udp.expect("C ACK PM")
        udp.send("D and still talking")
        udp.expect(f"C OK PM {CROWD}")
    finally:
        udp.close()
        room.close()
