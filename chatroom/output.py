"""
Getting a fan-out's bytes onto TCP sockets cheaply.

A public message to fifty people is fifty sends. Through Twisted's buffered
C{write}, each of them also costs two C{epoll_ctl} calls (register for
writability, unregister once written), a wake-up of the reactor and Twisted's
bookkeeping around one C{send}: more than the send itself. So output is
gathered per connection and written in one call per connection per flush, and
that call goes straight to the socket whenever Twisted has nothing buffered for
it; only what the kernel does not take at once is left to Twisted.

Flushes happen at the end of the reactor turn, but while the room is busy at
most once per L{FLUSH_INTERVAL}: a sender pacing one message every half
millisecond then costs each recipient one send per few messages instead of
one per message. Connections use C{TCP_NODELAY}, so a flush is never held
back further by Nagle's algorithm waiting for the client's delayed ack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from twisted.internet import tcp
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from chatroom.codec import TERMINATOR

#: The shortest time between two flushes while output keeps coming. Below
#: about 2 ms nothing is gained: the reactor's timeouts round to milliseconds.
FLUSH_INTERVAL = 0.002


def asLine(frame: bytes) -> bytes:
    """
    C{frame} as a line of the TCP protocol.
    """
    return frame + TERMINATOR


class Flushable(Protocol):
    def flush(self) -> None: ...


class Flusher:
    """
    Flushes the connections that have output waiting, all together: at the
    end of the turn when the last flush is at least L{FLUSH_INTERVAL} old,
    else as soon as it is.
    """

    __slots__ = (
        "_call",
        "_clock",
        "_encode",
        "_encoded",
        "_frame",
        "_interval",
        "_last",
        "_waiting",
    )

    def __init__(
        self,
        clock: IReactorTime,
        interval: float = FLUSH_INTERVAL,
        encode: Callable[[bytes], bytes] = asLine,
    ) -> None:
        """
        @param encode: what a frame is on this kind of connection: a line
            (C{frame + TERMINATOR}, the default) or a WebSocket message.
        """
        self._clock = clock
        self._interval = interval
        self._encode = encode
        self._last = -interval  # never flushed: the first output goes at once
        self._waiting: list[Flushable] = []
        self._call: IDelayedCall | None = None
        self._frame: bytes | None = None
        self._encoded = b""

    def encoded(self, frame: bytes) -> bytes:
        """
        C{frame} as written to the connections, made once for a run of
        recipients (a broadcast sends the same frame to each in turn).
        """
        if frame is not self._frame:
            self._frame = frame
            self._encoded = self._encode(frame)
        return self._encoded

    def later(self, connection: Flushable) -> None:
        """
        C{connection} has output waiting (and was not waiting already).
        """
        if not self._waiting:
            delay = self._last + self._interval - self._clock.seconds()
            self._call = self._clock.callLater(max(delay, 0.0), self.flush)
        self._waiting.append(connection)

    def flush(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        self._last = self._clock.seconds()
        waiting, self._waiting = self._waiting, []
        for connection in waiting:
            connection.flush()


def canWriteDirectly(transport: object) -> bool:
    """
    Whether L{writeNow} may reach into C{transport}: only Twisted's own TCP
    server connections, whose buffer it knows. Anything else (TLS, a test's
    transport, another reactor's) is written through its public C{write}.
    """
    return (
        isinstance(transport, tcp.Server)
        and hasattr(transport, "socket")
        and hasattr(transport, "dataBuffer")
        and hasattr(transport, "_tempDataBuffer")
        and hasattr(transport, "_writeDisconnecting")
    )


def writeNow(transport: tcp.Server, data: bytes) -> None:
    """
    Write C{data} to C{transport}, a connection L{canWriteDirectly} accepted:
    straight to its socket when nothing is buffered before it, so that order
    holds; whatever the socket does not take goes to Twisted's buffer, as does
    everything after an error, which Twisted then finds and reports itself.
    """
    if (
        transport.dataBuffer
        or transport._tempDataBuffer
        or transport.disconnecting
        or transport._writeDisconnecting
        or not transport.connected
    ):
        transport.write(data)
        return
    try:
        sent = transport.socket.send(data)
    except (BlockingIOError, InterruptedError):
        sent = 0
    except OSError:
        transport.write(data)
        return
    if sent < len(data):
        transport.write(data[sent:])
