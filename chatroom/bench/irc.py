"""
The load generator's IRC clients, for measuring ngIRCd the way C{clients} measures chatroom:
receivers count deliveries with C{bytes.count} and only probes parse each line's timestamp.
"""

from __future__ import annotations

import time

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import ITCPTransport
from twisted.internet.protocol import Protocol

from chatroom.bench.clients import Latencies

CHANNEL = b"#bench"
MARK = b" PRIVMSG " + CHANNEL + b" :"  # a delivered channel message
END_OF_NAMES = b" 366 "  # the end of the join's NAMES reply: the receiver is in


def register(nick: str) -> bytes:
    """
    Registration and the join, pipelined.
    """
    name = nick.encode()
    return b"NICK %s\r\nUSER %s 0 * :%s\r\nJOIN %s\r\n" % (name, name, name, CHANNEL)


def privmsg(size: int) -> bytes:
    """
    A channel message whose text starts with the time it was sent, as L{clients.message}.
    """
    stamp = b"%d " % time.monotonic_ns()
    return b"PRIVMSG " + CHANNEL + b" :" + stamp + b"x" * max(1, size - len(stamp)) + b"\r\n"


class IRCReceiver(Protocol):
    """
    Registers, joins L{CHANNEL}, answers PINGs, counts the channel messages it receives; a
    probe also times each one.
    """

    transport: ITCPTransport

    def __init__(self, name: str, latencies: Latencies | None = None) -> None:
        self.name = name
        self.latencies = latencies
        self.welcomed: Deferred[None] = Deferred()
        self.deliveries = 0
        self._tail = b"\n"
        self._partial = b""

    def connectionMade(self) -> None:
        self.transport.write(register(self.name))

    def dataReceived(self, data: bytes) -> None:
        chunk = self._tail + data
        self.deliveries += chunk.count(MARK)
        self._tail = chunk[-(len(MARK) - 1) :]
        if self.latencies is not None or not self.welcomed.called or b"PING " in chunk:
            self._lines(data)
        else:  # keep only the unfinished line, for the next parse
            end = data.rfind(b"\r\n")
            self._partial = data[end + 2 :] if end >= 0 else self._partial + data

    def _lines(self, data: bytes) -> None:
        lines = (self._partial + data).split(b"\r\n")
        self._partial = lines.pop()
        now = time.monotonic_ns()
        for line in lines:
            if line.startswith(b"PING "):
                self.transport.write(b"PONG " + line[5:] + b"\r\n")
            elif not self.welcomed.called and END_OF_NAMES in line:
                self.welcomed.callback(None)
            elif self.latencies is not None:
                at = line.find(MARK)
                if at > 0:
                    stamp = line[at + len(MARK) :].split(b" ", 1)[0]
                    self.latencies.samples.append(now - int(stamp))


class IRCSender(IRCReceiver):
    """
    Talks to L{CHANNEL}; ngIRCd does not echo its own messages back to it.
    """

    def burst(self, count: int, size: int) -> None:
        self.transport.write(b"".join(privmsg(size) for _ in range(count)))
