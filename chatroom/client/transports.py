"""
The client's side of the two transports: frames in and out, nothing else.

Each transport reports to a L{Listener}: a frame arrived, or the session
is over. What the frames mean is the client machine's business.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import suppress
from typing import Any, cast

from twisted.internet.error import MessageLengthError
from twisted.internet.interfaces import (
    IHandshakeListener,
    IReactorTime,
    IReactorUDP,
    ISystemHandle,
    ITCPTransport,
)
from twisted.internet.protocol import DatagramProtocol, connectionDone
from twisted.internet.task import LoopingCall
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom import codec
from chatroom.client.tls import isTLSFailure
from chatroom.datagrams import parseDatagram
from chatroom.reliable import LinkFailure, ReliableLink
from chatroom.sockets import IUDPPort, SocketAddress

#: Send a PING after this long without sending anything (UDP).
KEEPALIVE = 15.0
TICK = 0.025
#: How often L{UDPProbe} asks whether anything listens on the server's port.
PROBE_INTERVAL = 1.0
#: Frames a TCP connection keeps while its certificate is judged (a server
#: says one or two before the client speaks).
HELD_LIMIT = 64


class Listener:
    """
    Where a transport reports (the client wires these to its machine).
    """

    def __init__(
        self,
        frame: Callable[[str], object],
        lost: Callable[[], object],
        refused: Callable[[], object] | None = None,
        tlsFailed: Callable[[Failure], object] | None = None,
        secured: Callable[[Any], object] | None = None,
    ) -> None:
        self.frame = frame
        self.lost = lost
        #: Nothing listens on the server's port (UDP: ICMP port unreachable).
        self.refused = refused or lost
        #: TLS failed, most often because the server's certificate is not trusted.
        self.tlsFailed = tlsFailed or (lambda reason: lost())
        #: A TLS (or DTLS) handshake is done: its C{OpenSSL.SSL.Connection},
        #: whose certificate the client judges (L{chatroom.client.trust})
        #: while the transport holds what arrives until it is released.
        self.secured = secured or (lambda connection: None)


def _text(line: bytes) -> str:
    return line.decode("utf-8", errors="replace")


@implementer(IHandshakeListener)
class TCPClientProtocol(LineReceiver):
    """
    Frames over one TCP connection.

    With C{held}, frames that arrive are kept, not reported, until
    L{release}: the server's certificate is being judged.
    """

    delimiter = b"\n"
    MAX_LENGTH = codec.MAX_SERVER_FRAME + 1
    transport: ITCPTransport

    def __init__(self, listener: Listener, held: bool = False) -> None:
        self.listener = listener
        self._held: list[str] | None = [] if held else None

    def handshakeCompleted(self) -> None:
        """
        TLS's handshake is done (Twisted's TLS calls this before any data).
        """
        # TLS's transport hands out its OpenSSL connection (ISystemHandle).
        self.listener.secured(cast(ISystemHandle, self.transport).getHandle())

    def release(self) -> None:
        """
        Report the frames held, and every later one as it comes.
        """
        held, self._held = self._held or [], None
        for frame in held:
            self.listener.frame(frame)

    def lineReceived(self, line: bytes) -> None:
        frame = _text(line.removesuffix(b"\r"))
        if self._held is None:
            self.listener.frame(frame)
        elif len(self._held) < HELD_LIMIT:
            self._held.append(frame)

    def lineLengthExceeded(self, line: bytes) -> None:
        pass  # longer than any server frame: not ours to show

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if isTLSFailure(reason):
            self.listener.tlsFailed(reason)
        else:
            self.listener.lost()

    def sendFrame(self, frame: str) -> None:
        self.transport.write(frame.encode("utf-8") + b"\n")

    def close(self) -> None:
        self.transport.loseConnection()


class UDPProbe(DatagramProtocol):
    """
    Asks, once a second, whether anything listens on the server's port.

    The kernel reports an ICMP port unreachable only to a I{connected} UDP
    socket, but the session's socket cannot be connected before the server
    answers: a server on every interface may answer from another address
    than the one we wrote to (127.0.0.1 for 127.0.1.1). So until then this
    second socket, connected to the address we write to, sends empty
    datagrams (which a chatroom server ignores) and reports a refusal.
    """

    transport: IUDPPort | None

    def __init__(
        self, server: SocketAddress, refused: Callable[[], object], clock: IReactorTime
    ) -> None:
        self.server = server
        self.refused = refused
        self._ticker = LoopingCall(self._probe)
        self._ticker.clock = clock

    def startProtocol(self) -> None:
        assert self.transport is not None  # set just before this is called
        self.transport.connect(self.server[0], self.server[1])
        self._ticker.start(PROBE_INTERVAL)

    def stopProtocol(self) -> None:
        if self._ticker.running:
            self._ticker.stop()

    def _probe(self) -> None:
        assert self.transport is not None  # probing only runs while the port is open
        with suppress(OSError, MessageLengthError):  # lost: the next probe will tell
            self.transport.write(b"")

    def connectionRefused(self) -> None:
        self.stop()
        self.refused()

    def stop(self) -> None:
        if self.transport is not None and self.transport.connected:
            self.transport.stopListening()


class UDPClientProtocol(DatagramProtocol):
    """
    Frames over UDP, made reliable by the same link the server uses.

    Keeps the session alive with C{C PING} when the user has been quiet, and
    reports the server lost when a frame goes unanswered through every retry.

    Once the server's first frame arrives, the socket is connected to the
    address it came from, so that the kernel reports an ICMP port
    unreachable (the server is gone) at once instead of after the retries.
    Before that, an optional L{UDPProbe} on C{probeWith} does the same job.
    """

    transport: IUDPPort | None

    def __init__(
        self,
        server: SocketAddress,
        listener: Listener,
        clock: IReactorTime,
        rng: random.Random | None = None,
        probeWith: IReactorUDP | None = None,
    ) -> None:
        self.server = server
        self.listener = listener
        self.clock = clock
        self._probeWith = probeWith
        self._probe: UDPProbe | None = None
        self.connectedTo: tuple[str, int] | None = None
        now = clock.seconds()
        self.link = ReliableLink(
            self._transmit,
            lambda frame: self.listener.frame(_text(frame)),
            self._failed,
            sendSeq=(rng or random.SystemRandom()).randrange(2**31),
            recvSeq=None,  # learnt from the server's HELLO
            now=now,
        )
        self.lastSent = now
        self._ticker = LoopingCall(self._tick)
        self._ticker.clock = clock
        self._over = False

    def startProtocol(self) -> None:
        self._ticker.start(TICK, now=False)
        if self._probeWith is not None:
            self._probe = UDPProbe(self.server, self.connectionRefused, self.clock)
            interface = "::" if ":" in self.server[0] else "0.0.0.0"
            # IReactorUDP leaves out maxPacketSize's default, which every reactor has.
            self._probeWith.listenUDP(0, self._probe, interface=interface)  # type: ignore[call-arg]

    def stopProtocol(self) -> None:
        if self._ticker.running:
            self._ticker.stop()
        self._stopProbe()

    def _stopProbe(self) -> None:
        probe, self._probe = self._probe, None
        if probe is not None:
            probe.stop()

    def _transmit(self, datagram: bytes) -> None:
        if self.transport is not None:
            try:
                if self.connectedTo is None:
                    self.transport.write(datagram, self.server)
                else:
                    self.transport.write(datagram)
            except (OSError, MessageLengthError):
                pass  # lost, as datagrams may be: it is sent again

    def connectionRefused(self) -> None:
        """
        Nothing listens on the server's port: an ICMP port unreachable came
        back, to our connected socket or to the probe's.
        """
        if not self._over:
            self._over = True
            self.listener.refused()

    def datagramReceived(self, data: bytes, addr: tuple[str, int]) -> None:
        # A server listening on every interface may answer from another
        # address than the one we wrote to (127.0.1.1 and 127.0.0.1), so
        # only the port is checked; sequence numbers do the rest.
        if addr[1] != self.server[1]:
            return
        parsed = parseDatagram(data)
        if parsed is None:
            return
        seq, frame = parsed
        now = self.clock.seconds()
        if frame is None:
            self.link.ackReceived(seq, now)
        elif self.link.frameReceived(seq, frame, now) and self.connectedTo is None:
            self._connect((addr[0], addr[1]))

    def _connect(self, addr: tuple[str, int]) -> None:
        """
        The server answered from C{addr}: talk to that address only, and
        hear from the kernel when nothing listens there any more.
        """
        self._stopProbe()
        self.connectedTo = addr
        if self.transport is not None:
            self.transport.connect(*addr)

    def _tick(self) -> None:
        now = self.clock.seconds()
        self.link.tick(now)
        # Frames in flight are being resent anyway: no PING needed then.
        if self.link.idle and not self.link.dead and now - self.lastSent >= KEEPALIVE:
            self.sendFrame("C PING")

    def _failed(self, why: LinkFailure) -> None:
        self._end()

    def _end(self) -> None:
        if not self._over:
            self._over = True
            self.listener.lost()

    def sendFrame(self, frame: str) -> None:
        self.lastSent = self.clock.seconds()
        self.link.send(frame.encode("utf-8"), self.lastSent)

    def close(self) -> None:
        self._over = True
        self._stopProbe()
        if self.transport is not None:
            self.transport.stopListening()
