"""
C{chatclient} coming back to the room: one arrival serves the first login
and every return, asking for the history once and showing only what was
missed. A scripted server on a real socket records every frame the real
client sends, which a real server would not tell.
"""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime

from helpers.wire import ClientProcess

#: How long the scripted server waits for any one frame.
FRAME_WAIT = 20.0


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Session:
    """
    One accepted connection, read and written a line at a time.
    """

    def __init__(self, listener: socket.socket) -> None:
        self.sock, _address = listener.accept()
        self.sock.settimeout(FRAME_WAIT)
        self.reader = self.sock.makefile("r", encoding="utf-8", newline="\n")
        self.received: list[str] = []

    def send(self, *frames: str) -> None:
        self.sock.sendall("".join(frame + "\n" for frame in frames).encode("utf-8"))

    def expect(self, frame: str) -> None:
        line = self.reader.readline().rstrip("\n")
        self.received.append(line)
        assert line == frame, (line, frame, self.received)

    def rest(self) -> list[str]:
        """
        Every frame until the client closes the connection.
        """
        while line := self.reader.readline():
            self.received.append(line.rstrip("\n"))
        return self.received

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class ScriptedServer:
    """
    Plays the server's part of two sessions in a thread; what went wrong
    there is raised again by L{join}.
    """

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(2)
        self.listener.settimeout(FRAME_WAIT)
        self.port = self.listener.getsockname()[1]
        self.sessions: list[Session] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.script()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            self.error = e

    def accept(self) -> Session:
        session = Session(self.listener)
        self.sessions.append(session)
        return session

    def logIn(self, login: str) -> Session:
        session = self.accept()
        session.send("C HELLO chatroom 1 TCP")
        session.expect(login)
        session.send("C PASSWORD EXISTING")
        session.expect("C PASS pw")
        session.send("C WELCOME dora TCP Welcome dora, you are connected via TCP.")
        return session

    def script(self) -> None:
        first = self.logIn("C LOGIN dora")
        first.expect("C WHO")
        first.send("C USERS dora:TCP bob:TCP")
        first.expect("C HISTORY 20")
        first.send("C HISTORY 1", f"D HISTORY {stamp()} bob TCP said before dora came")
        first.send("D PM bob TCP seen live")
        first.expect("C PM")  # dora's own message, seen too
        first.send("C ACK PM")
        first.expect("D mine, before the loss")
        first.send("C OK PM 1")
        first.close()  # lost, without a goodbye
        again = self.logIn("C LOGIN dora GHOST")
        again.expect("C WHO")
        again.send("C USERS dora:TCP bob:TCP")
        again.expect("C HISTORY 100")
        # Relayed before the history reply, and already in it.
        again.send("D PM bob TCP relayed meanwhile")
        now = stamp()
        again.send(
            "C HISTORY 5",
            f"D HISTORY {now} bob TCP said before dora came",
            f"D HISTORY {now} bob TCP seen live",
            f"D HISTORY {now} dora TCP mine, before the loss",
            f"D HISTORY {now} carol UDP said while dora was away",
            f"D HISTORY {now} bob TCP relayed meanwhile",
        )
        again.send("D PM bob TCP after the return")
        again.expect("C EX")
        again.send("C BYE")
        again.rest()
        again.close()

    def join(self) -> None:
        self.thread.join(FRAME_WAIT * 3)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        for session in self.sessions:
            session.close()
        self.listener.close()


def test_a_return_asks_for_history_once_and_shows_only_what_was_missed():
    server = ScriptedServer()
    client = ClientProcess("127.0.0.1", str(server.port), "dora", "--reconnect")
    try:
        client.type("pw")
        client.waitFor("(earlier) bob[TCP] : said before dora came")
        client.waitFor("bob[TCP] : seen live")
        client.type("PM mine, before the loss")
        client.waitFor("mine, before the loss · Sent to 1 user.")
        client.waitFor("Lost connection to the server.")
        client.waitFor("Reconnecting in 1 s")
        client.waitFor("Back in the room after")
        client.waitFor("Online now (2): dora[TCP] (you), bob[TCP]")
        client.waitFor("Said while you were away:")
        client.waitFor("bob[TCP] : after the return")
        client.type("EX")
        assert client.wait() == 0
        server.join()
    finally:
        client.stop()
        server.close()
    returned = server.sessions[1].received
    # One arrival: one history request, one WHO, nothing sent twice.
    assert returned == [
        "C LOGIN dora GHOST",
        "C PASS pw",
        "C WHO",
        "C HISTORY 100",
        "C EX",
    ], returned
    shown = client.lines[client.lines.index(next(x for x in client.lines if "Back in" in x)) :]
    missed = [line for line in shown if "(earlier)" in line]
    # Only the gap, marked as earlier, with times; the message relayed while
    # the history was asked for is shown once, in its place.
    assert [line.split(" ", 1)[1] for line in missed] == [
        "(earlier) carol[UDP] : said while dora was away",
        "(earlier) bob[TCP] : relayed meanwhile",
    ], shown
    assert all(line[:2].isdigit() and line[2] == ":" for line in missed), missed
    everything = "\n".join(client.lines)
    for said in ("said before dora came", "seen live", "relayed meanwhile"):
        assert everything.count(said) == 1, everything
    assert everything.index("said while dora was away") < everything.index("after the return")
