"""
One peer's DTLS association, as an explicit state machine: COOKIE (the throwaway state
of L{chatroom.dtls.gate}, before anything is kept), HANDSHAKING, OPEN and CLOSED.

The association owns its OpenSSL connection (memory BIOs, no socket) and its handshake
timer: after every step it asks OpenSSL how long until a flight must be sent again
(C{DTLSv1_get_timeout}) and sets a call on the reactor's clock for then, where it lets
OpenSSL resend (C{DTLSv1_handle_timeout}). OpenSSL keeps its own deadline by the real
clock too; a call that comes early is simply set again for what is left.

The door (its L{AssociationHost}) is told when the association opens, what plaintext
datagrams arrive, and when it ends and why.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from OpenSSL import SSL
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from chatroom.codec import Reason
from chatroom.dtls.gate import drain
from chatroom.dtls.records import packRecords, splitRecords

Address = tuple[str, int]

#: The soonest a handshake timer is set for, so that a deadline OpenSSL
#: sees as not quite reached cannot make the reactor spin.
TIMER_FLOOR = 0.01


class AssociationState(Enum):
    #: Only a ClientHello seen; nothing kept (the gate's throwaway connection).
    COOKIE = "cookie"
    #: The cookie came back: the handshake is under way, its flights timed.
    HANDSHAKING = "handshaking"
    #: Application data flows both ways.
    OPEN = "open"
    #: Over: closed by either side, failed or given up; every input ignored.
    CLOSED = "closed"


class AssociationInput(Enum):
    VERIFIED = "verified"
    FINISHED = "finished"
    END = "end"


TRANSITIONS: dict[tuple[AssociationState, AssociationInput], AssociationState] = {
    (AssociationState.COOKIE, AssociationInput.VERIFIED): AssociationState.HANDSHAKING,
    (AssociationState.COOKIE, AssociationInput.END): AssociationState.CLOSED,
    (AssociationState.HANDSHAKING, AssociationInput.FINISHED): AssociationState.OPEN,
    (AssociationState.HANDSHAKING, AssociationInput.END): AssociationState.CLOSED,
    (AssociationState.OPEN, AssociationInput.END): AssociationState.CLOSED,
}

HANDSHAKING, OPEN, CLOSED = (
    AssociationState.HANDSHAKING,
    AssociationState.OPEN,
    AssociationState.CLOSED,
)


class AssociationHost(Protocol):
    """
    What an association needs from the door that holds it.
    """

    def sendDatagram(self, datagram: bytes, addr: Address) -> None: ...

    def opened(self, association: Association) -> None:
        """The handshake completed."""

    def plaintext(self, association: Association, datagram: bytes) -> None:
        """One application record arrived: one datagram of the UDP session inside."""

    def ended(self, association: Association, why: str) -> None:
        """The peer closed it (C{CLOSED}) or it broke (C{TIMEOUT}); not called for L{close}."""


class Association:
    """
    A DTLS association with the peer at C{address}.
    """

    def __init__(
        self,
        connection: SSL.Connection,
        address: Address,
        host: AssociationHost,
        clock: IReactorTime,
    ) -> None:
        self.connection = connection
        self.address = address
        self.host = host
        self.clock = clock
        self.began = clock.seconds()
        self.state = AssociationState.COOKIE
        #: What OpenSSL raised, if that ended it (the client shows it).
        self.failure: SSL.Error | None = None
        self._timer: IDelayedCall | None = None

    def _move(self, event: AssociationInput) -> bool:
        after = TRANSITIONS.get((self.state, event))
        if after is None:
            return False
        self.state = after
        return True

    # Inputs from the door.

    def verified(self) -> None:
        """
        Begin the handshake: on the server, the gate let the ClientHello
        through (it is in the connection already) and this answers it; on
        the client, this sends the ClientHello (OpenSSL answers the
        server's cookie request itself).
        """
        if self._move(AssociationInput.VERIFIED):
            self._handshake()

    def feed(self, datagram: bytes) -> None:
        """
        A datagram of DTLS records from the peer.
        """
        if self.state is CLOSED or self.state is AssociationState.COOKIE:
            return
        try:
            self.connection.bio_write(datagram)
        except SSL.Error:
            self._fail(Reason.TIMEOUT)
            return
        if self.state is HANDSHAKING:
            self._handshake()
        if self.state is OPEN:
            self._read()

    def send(self, datagram: bytes) -> None:
        """
        One datagram of the UDP session, as one application record.
        """
        if self.state is not OPEN:
            return
        try:
            self.connection.send(datagram)
        except SSL.Error as e:
            self.failure = e
            # Inside the session's own send: it hears of the end on the next turn.
            self.clock.callLater(0, self._fail, Reason.TIMEOUT)
            return
        self._flush()

    def close(self) -> None:
        """
        End it from our side: a C{close_notify} if it was open, and silence.
        """
        wasOpen = self.state is OPEN
        if not self._move(AssociationInput.END):
            return
        self._stopTimer()
        if wasOpen:
            try:
                self.connection.shutdown()
            except SSL.Error:
                return
            self._flush()

    # Inside.

    def _handshake(self) -> None:
        try:
            self.connection.do_handshake()
        except SSL.WantReadError:
            pass
        except SSL.Error as e:
            self.failure = e
            self._flush()  # the alert, if OpenSSL wrote one
            self._fail(Reason.TIMEOUT)
            return
        else:
            self._move(AssociationInput.FINISHED)
        self._flush()
        self._arm()
        if self.state is OPEN:
            self.host.opened(self)

    def _read(self) -> None:
        while self.state is OPEN:
            try:
                data = self.connection.recv(65536)
            except SSL.WantReadError:
                break
            except SSL.ZeroReturnError:  # the peer's close_notify
                self._flush()
                self._fail(Reason.CLOSED)
                return
            except SSL.Error as e:
                self.failure = e
                self._fail(Reason.TIMEOUT)
                return
            self.host.plaintext(self, data)
        self._flush()  # OpenSSL may answer (a retransmitted Finished, say)

    def _flush(self) -> None:
        out = drain(self.connection)
        if not out:
            return
        records = splitRecords(out)
        if records is None:  # cannot be: OpenSSL wrote it; send it whole then
            records = [out]
        for datagram in packRecords(records):
            self.host.sendDatagram(datagram, self.address)

    def _fail(self, why: str) -> None:
        if self._move(AssociationInput.END):
            self._stopTimer()
            self.host.ended(self, why)

    # The handshake timer.

    def _arm(self) -> None:
        self._stopTimer()
        if self.state is CLOSED:
            return
        left = self.connection.DTLSv1_get_timeout()
        if left is not None:
            self._timer = self.clock.callLater(max(left, TIMER_FLOOR), self._timeout)

    def _stopTimer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _timeout(self) -> None:
        self._timer = None
        if self.state is CLOSED:
            return
        try:
            self.connection.DTLSv1_handle_timeout()
        except SSL.Error:
            self._fail(Reason.TIMEOUT)  # too many retransmissions: OpenSSL gave up
            return
        self._flush()
        self._arm()
