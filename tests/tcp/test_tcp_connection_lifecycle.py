"""
A TCP connection's input over its whole life, over real sockets: a large
pipeline in one write stays within the inbox limit, and every frame sent
before the client's FIN is answered before the server closes.
"""

from __future__ import annotations

import time

import pytest_twisted
from helpers.waits import pause
from helpers.wire import connect, loggedIn

from chatroom import pipeline
from chatroom.pipeline import INBOX_HIGH

PINGS = 9000


class InboxHighWater:
    """
    The longest any session's inbox grew, seen from inside the server.
    """

    def __init__(self, monkeypatch) -> None:
        self.most = 0
        enqueue = pipeline.Session._enqueue

        def measured(session: pipeline.Session, item) -> None:
            enqueue(session, item)
            self.most = max(self.most, len(session.inbox or ()))

        monkeypatch.setattr(pipeline.Session, "_enqueue", measured)


def pingPipeline(name: str) -> bytes:
    """
    A login whose password check is pending while 9,000 pings follow it,
    all in one write (about 90 KiB).
    """
    lines = [f"C LOGIN {name}", "C PASS pw", *(f"C PING {n}" for n in range(PINGS))]
    return "".join(line + "\n" for line in lines).encode()


async def waitForPongs(client) -> list[bytes]:
    """
    The client's C{PONG} frames, once all of them arrived (others' C{JOIN}
    notices come between them).
    """
    deadline = time.monotonic() + 60
    while True:
        pongs = [line for line in client.raw if line.startswith(b"C PONG ")]
        if len(pongs) >= PINGS or time.monotonic() > deadline:
            return pongs
        await pause(0.05)


@pytest_twisted.ensureDeferred
async def test_one_write_cannot_queue_more_than_the_inbox_limit(startServer, monkeypatch):
    highWater = InboxHighWater(monkeypatch)
    server = await startServer("--msg-rate", "0")
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.transport.write(pingPipeline("kim"))
    await client.expect(
        "C PASSWORD NEW", "C WELCOME kim TCP Welcome kim, you are connected via TCP."
    )
    for n in range(PINGS):  # every one, in order
        assert await client.next() == f"C PONG {n}"
    assert highWater.most <= INBOX_HIGH + 1
    client.close()
    await client.waitClosed()


@pytest_twisted.ensureDeferred
async def test_twenty_such_connections_stay_within_the_limit(startServer, monkeypatch):
    highWater = InboxHighWater(monkeypatch)
    server = await startServer("--msg-rate", "0")
    clients = [await connect(server.port) for _ in range(20)]
    for number, client in enumerate(clients):
        client.transport.write(pingPipeline(f"kim{number}"))
    for client in clients:
        assert await waitForPongs(client) == [b"C PONG %d\r" % n for n in range(PINGS)]
    assert highWater.most <= INBOX_HIGH + 1
    for client in clients:
        client.close()
        await client.waitClosed()


DAVE = ("C LOGIN dave", "C PASS pw", "C PM", "D hi", "C WHO", "C EX")


@pytest_twisted.ensureDeferred
async def test_frames_before_a_half_close_are_all_answered(server):
    """
    C{printf '...' | nc -N}: the whole session in one write, then FIN.
    """
    client = await connect(server.port)
    client.send(*DAVE)
    client.transport.loseWriteConnection()
    await client.expect(
        "C HELLO chatroom 1 TCP",
        "C PASSWORD NEW",
        "C WELCOME dave TCP Welcome dave, you are connected via TCP.",
        "C ACK PM",
        "C OK PM 0",
    )
    assert (await client.next()).startswith("C USERS dave:TCP")
    await client.expect("C BYE EXIT")
    await client.waitClosed()
    assert client.pending() == 0


@pytest_twisted.ensureDeferred
async def test_half_close_without_ex_answers_then_closes(server):
    watcher = await loggedIn(server.port, "watcher")
    client = await connect(server.port)
    client.send("C LOGIN eve", "C PASS pw", "C PM", "D bye all", "C PING last")
    client.transport.loseWriteConnection()
    await client.expect(
        "C HELLO chatroom 1 TCP",
        "C PASSWORD NEW",
        "C WELCOME eve TCP Welcome eve, you are connected via TCP.",
        "C ACK PM",
        "C OK PM 1",
        "C PONG last",
    )
    await client.waitClosed()
    assert client.pending() == 0
    await watcher.expect("C JOIN eve TCP", "D PM eve TCP bye all", "C LEAVE eve TCP CLOSED")
    assert list(server.chat.roster.online) == ["watcher"] and server.chat.roster.reserved == {}


@pytest_twisted.ensureDeferred
async def test_an_unterminated_last_line_before_fin_is_a_frame(server):
    client = await connect(server.port)
    client.transport.write(b"C PING one\nC PING two")
    client.transport.loseWriteConnection()
    await client.expect("C HELLO chatroom 1 TCP", "C PONG one", "C PONG two")
    await client.waitClosed()


@pytest_twisted.ensureDeferred
async def test_half_close_behind_a_paused_pipeline(startServer):
    """
    The FIN waits behind frames the inbox limit held back; none is lost.
    """
    server = await startServer("--msg-rate", "0")
    client = await connect(server.port)
    client.transport.write(pingPipeline("kim") + b"C EX\n")
    client.transport.loseWriteConnection()
    await client.expect(
        "C HELLO chatroom 1 TCP",
        "C PASSWORD NEW",
        "C WELCOME kim TCP Welcome kim, you are connected via TCP.",
    )
    for n in range(PINGS):
        assert await client.next() == f"C PONG {n}"
    await client.expect("C BYE EXIT")
    await client.waitClosed()
    assert server.chat.sessions == set()


@pytest_twisted.ensureDeferred
async def test_reset_while_a_login_is_pending_leaves_nothing(server):
    client = await connect(server.port)
    await client.expect("C HELLO chatroom 1 TCP")
    client.send("C LOGIN rita", "C PASS pw", *(f"C PING {n}" for n in range(500)))
    client.transport.abortConnection()
    await client.waitClosed()
    deadline = time.monotonic() + 10
    while server.chat.sessions and time.monotonic() < deadline:
        await pause(0.02)
    assert server.chat.sessions == set()
    await pause(0.2)  # the password check finishes into a session that is gone
    assert server.chat.roster.online == {} and server.chat.roster.reserved == {}
    again = await loggedIn(server.port, "rita", "pw")  # the name is free
    again.close()
    await again.waitClosed()
