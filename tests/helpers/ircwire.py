"""
A blocking IRC client over a plain socket, for tests that drive a real
server subprocess's IRC listener. Every wait is bounded.
"""

from __future__ import annotations

import base64
import socket
import time

WAIT = 10.0


class IRCClient:
    """
    Sends raw lines, reads the server's lines one at a time.
    """

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.file = self.sock.makefile("rb")
        self.seen: list[str] = []

    def send(self, *lines: str) -> None:
        self.sendRaw(b"".join(line.encode("utf-8") + b"\r\n" for line in lines))

    def sendRaw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def next(self) -> str:
        raw = self.file.readline()
        if not raw:
            raise EOFError("the server closed the connection; seen:\n" + "\n".join(self.seen))
        line = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
        self.seen.append(line)
        return line

    def waitFor(self, text: str) -> str:
        """
        Read until a line holding C{text}; that line.
        """
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            line = self.next()
            if text in line:
                return line
        raise AssertionError(f"{text!r} never came; seen:\n" + "\n".join(self.seen))

    def command(self, line: str) -> str:
        """
        The words of a line after its tags and source: C{"PRIVMSG #c :hi"}.
        """
        if line.startswith("@"):
            line = line.partition(" ")[2]
        if line.startswith(":"):
            line = line.partition(" ")[2]
        return line

    def until(self, text: str) -> list[str]:
        """
        Every line up to and including the one holding C{text}.
        """
        start = len(self.seen)
        self.waitFor(text)
        return self.seen[start:]

    def closed(self) -> bool:
        """
        Whether the server closed the connection (after reading the rest).
        """
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                if not self.file.readline():
                    return True
            except OSError:
                return True
        return False

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def plain(name: str, password: str) -> str:
    return base64.b64encode(f"\0{name}\0{password}".encode()).decode()


def registered(
    port: int, nick: str, password: str = "secret", caps: str = "", join: bool = True
) -> IRCClient:
    """
    An IRC client registered with C{PASS} (and C{caps} asked for), in the
    channel if C{join}, every line up to there read.
    """
    client = IRCClient(port)
    lines = ["CAP LS 302", f"PASS {password}", f"NICK {nick}", "USER u 0 * :Real Name"]
    if caps:
        lines.append(f"CAP REQ :{caps}")
    client.send(*lines, "CAP END")
    client.waitFor(" 376 ")
    if join:
        client.send("JOIN #chatroom")
        client.waitFor(" 366 ")
    return client
