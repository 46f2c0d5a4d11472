"""
The DTLS door: the UDP socket's protocol for C{--dtls}. It keeps the table of
associations by peer address, routes each datagram to the cookie gate or to its
association, and runs the plain UDP server of section 5 (L{ChatDatagramProtocol})
underneath, unchanged: that server sends and receives through the associations as if
through a socket, and knows nothing of encryption.

Limits: handshakes under way and associations whose UDP session has not been proven yet
count against the provisional limit of section 5 and are forgotten after its lifetime;
the per-address and client limits are the room's, as for plain UDP.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from chatroom.codec import Reason
from chatroom.dtls.association import OPEN, Association, AssociationState
from chatroom.dtls.gate import CookieGate
from chatroom.dtls.records import epoch, isClientHello, splitRecords
from chatroom.pipeline import IDoorway
from chatroom.sockets import IUDPPort
from chatroom.udp import ChatDatagramProtocol, UDPTimings
from chatroom.udp.handshake import PROVISIONAL_LIMIT
from chatroom.udp.ticker import Ticker

Address = tuple[str, int]

#: How often the door looks for handshakes and unproven associations to forget.
EXPIRY_TICK = 0.5


class _SealedSocket:
    """
    What the plain UDP server takes for its socket: C{sendto} seals the
    datagram into the peer's association.
    """

    def __init__(self, door: DTLSDoor) -> None:
        self._door = door

    def sendto(self, datagram: bytes, addr: Address) -> int:
        association = self._door.associations.get(addr)
        if association is not None:
            association.send(datagram)
        return len(datagram)


class _SealedPort:
    """
    The plain UDP server's transport: only its handle is used.
    """

    def __init__(self, door: DTLSDoor) -> None:
        self._socket = _SealedSocket(door)

    def getHandle(self) -> _SealedSocket:
        return self._socket


class DTLSDoor(DatagramProtocol):
    """
    Every DTLS association on one socket, each carrying one UDP session.
    """

    log = Logger()
    transport: IUDPPort

    def __init__(
        self,
        service: IDoorway,
        clock: IReactorTime,
        gate: CookieGate,
        timings: UDPTimings | None = None,
        provisionalLimit: int = PROVISIONAL_LIMIT,
    ) -> None:
        """
        @param provisionalLimit: handshakes and unproven associations at
            once (section 5's limit on provisional sessions).
        """
        self.clock = clock
        self.provisionalLimit = provisionalLimit
        self.gate = gate
        self.timings = timings = timings or UDPTimings()
        self.inner = ChatDatagramProtocol(service, clock, timings, released=self._released)
        # Every session inside travels in DTLS: --plaintext-logins lets it log in.
        self.inner.encrypted = True
        #: The association of each address (handshaking or open).
        self.associations: dict[Address, Association] = {}
        #: A new handshake from an address that has an open association: it
        #: replaces that one only once it completes.
        self.pending: dict[Address, Association] = {}
        #: Associations whose UDP session is not proven yet, by address.
        self.unproven: dict[Address, Association] = {}
        self.accepting = True
        self.ticker = Ticker(clock, EXPIRY_TICK, [("DTLS expiry", self._expire)])

    def startProtocol(self) -> None:
        self._sendto = self.transport.getHandle().sendto
        self.inner.makeConnection(_SealedPort(self))  # type: ignore[arg-type]
        self.ticker.start()

    def stopProtocol(self) -> None:
        self.ticker.stop()
        self.inner.doStop()

    # Datagrams in.

    def datagramReceived(self, data: bytes, addr: Address) -> None:
        if not addr[1]:
            return
        records = splitRecords(data)
        if records is None:
            return  # not DTLS: no answer
        current = self.associations.get(addr)
        if isClientHello(records[0]):
            self._hello(data, addr, current)
            return
        if current is not None:
            current.feed(data)
        waiting = self.pending.get(addr)
        if waiting is not None and any(epoch(record) for record in records):
            # The new handshake's Finished is encrypted: it may be for either.
            waiting.feed(data)

    def _hello(self, data: bytes, addr: Address, current: Association | None) -> None:
        """
        A ClientHello: part of a handshake under way, or the start of one
        (first through the cookie gate).
        """
        handshaking = self.pending.get(addr)
        if handshaking is None and current is not None and current.state is not OPEN:
            handshaking = current
        if handshaking is not None:
            handshaking.feed(data)  # a retransmitted hello
            return
        if not self.accepting:
            return
        connection, reply = self.gate.admit(data, addr)
        if connection is None:
            if reply:
                self.sendDatagram(reply, addr)
            return
        if len(self.unproven) + len(self.pending) >= self.provisionalLimit:
            return  # as plain UDP ignores first datagrams while its table is full
        association = Association(connection, addr, self, self.clock)
        if current is None:
            self.associations[addr] = association
            self.unproven[addr] = association
        else:
            self.pending[addr] = association
        association.verified()

    # From the associations (see AssociationHost).

    def sendDatagram(self, datagram: bytes, addr: Address) -> None:
        try:  # noqa: SIM105 - as plain UDP: a datagram that cannot go now is lost
            self._sendto(datagram, addr)
        except OSError:
            pass

    def opened(self, association: Association) -> None:
        addr = association.address
        if self.pending.get(addr) is not association:
            return
        # A new handshake completed: the old association and its session end.
        del self.pending[addr]
        old = self.associations.pop(addr, None)
        if old is not None:
            old.close()
            self._endSession(addr, Reason.CLOSED)
        self.associations[addr] = association
        self.unproven[addr] = association

    def plaintext(self, association: Association, datagram: bytes) -> None:
        addr = association.address
        if self.associations.get(addr) is association:
            self.inner.datagramReceived(datagram, addr)

    def ended(self, association: Association, why: str) -> None:
        addr = association.address
        if self.pending.get(addr) is association:
            del self.pending[addr]
            return
        if self.associations.get(addr) is association:
            del self.associations[addr]
            self.unproven.pop(addr, None)
            self._endSession(addr, why)

    # The session inside.

    def _endSession(self, addr: Address, why: str) -> None:
        """
        End the UDP session of C{addr}, whatever state it is in.
        """
        self.inner.handshakes.provisional.pop(addr, None)
        channel = self.inner.channels.get(addr)
        if channel is not None:
            channel.forget(why)

    def _released(self, addr: Address) -> None:
        """
        The UDP session inside ended: so does its association.
        """
        association = self.associations.pop(addr, None)
        if association is not None:
            self.unproven.pop(addr, None)
            association.close()

    def _expire(self, now: float) -> None:
        """
        Forget handshakes, and associations without a proven session, past
        the provisional lifetime of section 5.
        """
        lifetime = self.timings.provisionalLifetime
        for addr, association in list(self.unproven.items()):
            if addr in self.inner.channels:
                del self.unproven[addr]
            elif association.began + lifetime <= now:
                del self.unproven[addr]
                if self.associations.get(addr) is association:
                    del self.associations[addr]
                    self.inner.handshakes.provisional.pop(addr, None)
                association.close()
        for addr, association in list(self.pending.items()):
            if association.began + lifetime <= now:
                del self.pending[addr]
                association.close()

    # Shutting down.

    def shutDown(self) -> Deferred[None]:
        """
        Stop taking handshakes, let the UDP server say goodbye to every
        session inside (each association ends with its session), then end
        whatever is left.
        """
        self.accepting = False
        for association in list(self.pending.values()):
            association.close()
        self.pending.clear()

        def closeAll(result: None) -> None:
            for association in list(self.associations.values()):
                association.close()
            self.associations.clear()
            self.unproven.clear()

        return self.inner.shutDown().addBoth(closeAll)

    @property
    def handshaking(self) -> int:
        """
        How many handshakes are under way (for tests and the console).
        """
        states = [a.state for a in self.associations.values()] + [
            a.state for a in self.pending.values()
        ]
        return states.count(AssociationState.HANDSHAKING)
