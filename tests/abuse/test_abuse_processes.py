"""
Abuse against the real server process: a client that stops reading, and
the server killed mid-storm.
"""

from __future__ import annotations

import signal
import socket
import sqlite3
import threading
from pathlib import Path

from helpers.wire import BlockingClient, BlockingUDP, ServerProcess, twistdServer

MESSAGES = 5000
SIZE = 1024


def rss(pid: int) -> int:
    """
    The resident memory of process C{pid}, in KiB.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def tcpUser(port: int, name: str) -> BlockingClient:
    client = BlockingClient(port)
    client.send(f"C LOGIN {name}", f"C PASS pw-{name}")
    client.expect("C HELLO chatroom 1 TCP", "C PASSWORD NEW")
    assert client.next().startswith("C WELCOME ")
    return client


class Collector(threading.Thread):
    """
    Reads a client's frames in the background, keeping public messages and
    notices.
    """

    def __init__(self, client: BlockingClient | BlockingUDP) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.messages: list[str] = []
        self.notices: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while len(self.messages) < MESSAGES:
                frame = self.client.next()
                if frame.startswith("D PM "):
                    self.messages.append(frame.split(" ", 4)[4][:8])
                elif frame.startswith(("C JOIN", "C LEAVE")):
                    self.notices.append(frame)
        # Anything, even a bug: the test reports it from its own thread.
        except BaseException as e:  # noqa: BLE001
            self.error = e


def test_a_client_that_stops_reading_is_dropped_and_nobody_else_waits(tmp_path):
    server = twistdServer(tmp_path, "--msg-rate=0")
    try:
        tcpPort, udpPort = server.ports["TCP"], server.ports["UDP"]
        # The slow reader: logs in, then never reads another byte.
        sleeper = socket.socket()
        sleeper.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sleeper.connect(("127.0.0.1", tcpPort))
        sleeper.sendall(b"C LOGIN sleeper\nC PASS pw\n")
        reader = tcpUser(tcpPort, "reader")
        udpReader = BlockingUDP(udpPort)
        udpReader.send("C LOGIN udpreader", "C PASS pw")
        udpReader.expect("C HELLO chatroom 1 UDP", "C PASSWORD NEW")
        assert udpReader.next().startswith("C WELCOME ")
        sender = tcpUser(tcpPort, "sender")
        collectors = [Collector(reader), Collector(udpReader)]
        for collector in collectors:
            collector.start()
        before = rss(server.process.pid)

        batch = 250  # pipelined, a batch at a time
        for start in range(0, MESSAGES, batch):
            frames = []
            for i in range(start, start + batch):
                frames += ["C PM", f"D {i:08d} " + "x" * (SIZE - 9)]
            sender.send(*frames)
            oks = 0
            while oks < batch:
                frame = sender.next()
                oks += frame.startswith("C OK PM ")
                assert not frame.startswith("C ERR"), frame
        for collector in collectors:
            collector.join(timeout=60)
            assert collector.error is None and not collector.is_alive()
            assert collector.messages == [f"{i:08d}" for i in range(MESSAGES)]
        after = rss(server.process.pid)
        assert "C LEAVE sleeper TCP DROPPED" in collectors[0].notices
        assert "C LEAVE sleeper TCP DROPPED" in collectors[1].notices
        # 5 MB went to each reader; what waited for the sleeper was capped.
        assert after - before < 20 * 1024, (before, after)
        server.waitForLog("sleeper [TCP] has left the chat. (DROPPED)")
        sleeper.close()
    finally:
        server.stop()


def test_killed_during_a_registration_storm_loses_no_welcomed_account(tmp_path):
    server = twistdServer(tmp_path, "--max-registrations=0")  # one address, many accounts
    welcomed: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def register(worker: int) -> None:
        for n in range(200):
            if stop.is_set():
                return
            name = f"w{worker}n{n}"
            try:
                client = BlockingClient(server.ports["TCP"])
                client.send(f"C LOGIN {name}", f"C PASS secret-{name}")
                client.expect("C HELLO chatroom 1 TCP", "C PASSWORD NEW")
                if client.next().startswith("C WELCOME "):
                    with lock:
                        welcomed.append(name)
                client.close()
            except (OSError, EOFError, AssertionError):
                return  # the server died under us

    workers = [threading.Thread(target=register, args=(w,), daemon=True) for w in range(8)]
    for worker in workers:
        worker.start()
    while len(welcomed) < 40:
        assert any(w.is_alive() for w in workers), "the storm ended early"
        threading.Event().wait(0.05)
    server.stop(signal.SIGKILL)
    stop.set()
    for worker in workers:
        worker.join(timeout=30)

    database = tmp_path / "chat.sqlite"
    check = sqlite3.connect(database)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    restarted: ServerProcess = twistdServer(tmp_path)
    try:
        for name in welcomed:
            client = BlockingClient(restarted.ports["TCP"])
            client.send(f"C LOGIN {name}", f"C PASS secret-{name}", "C EX")
            client.expect(
                "C HELLO chatroom 1 TCP",
                "C PASSWORD EXISTING",
                f"C WELCOME {name} TCP Welcome {name}, you are connected via TCP.",
                "C BYE EXIT",
            )
            client.close()
    finally:
        restarted.stop()
