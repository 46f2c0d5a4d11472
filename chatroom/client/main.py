"""
One chat client's life: the machine, a transport and a user interface wired
together, connecting, judging the certificate, reconnecting and leaving.

The C{chatclient} process around it (language, command line, reactor,
terminal or pipe) is L{chatroom.client.process}.
"""

from __future__ import annotations

import socket
from typing import Any

from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    connectProtocol,
    wrapClientTLS,
)
from twisted.internet.error import ConnectingCancelledError
from twisted.python.failure import Failure

from chatroom.client import tls, trust
from chatroom.client.dtls import DTLSClientProtocol
from chatroom.client.machine import ClientMachine
from chatroom.client.reconnect import Reconnector, whyNotConnected
from chatroom.client.style import Painter, plain
from chatroom.client.terminal import UI, Interrupted
from chatroom.client.text import _
from chatroom.client.transports import Listener, TCPClientProtocol, UDPClientProtocol
from chatroom.client.trusting import CertificateJudge

#: How long leaving may wait for the server's BYE.
LEAVE_GRACE = 3.0

#: How long a connection attempt may take, whatever happens inside it.
CONNECT_LIMIT = 30.0

#: After this long without a word from a UDP server, say that we wait.
WAIT_NOTICE = 3.0

#: The exit status when the server's TLS certificate is not trusted.
UNTRUSTED = 3


class ChatClient:
    """
    Wires the machine to a transport and a user interface.

    It is the machine's L{ClientView}: frames go to the current transport,
    lines and prompts to the UI. A session the server ended while the user
    was typing a password is replaced by a new one (L{reconnect}).
    """

    def __init__(
        self,
        reactor: Any,
        host: str,
        port: int,
        name: str,
        udp: bool,
        ui: UI,
        offerGhost: bool = False,
        terminal: bool = False,
        paint: Painter = plain,
        comesBack: bool = False,
        tlsOptions: Any = None,
        vetting: trust.Vetting | None = None,
    ) -> None:
        """
        @param offerGhost: a person answers at a terminal: offer to end
            their own other session when the name is taken.
        @param terminal: a person answers at a terminal (see
            L{ClientMachine.terminal}).
        @param paint: how lines are coloured, if at all.
        @param comesBack: reconnect after a lost session (L{Reconnector}).
        @param tlsOptions: connect over TLS with these client options.
        @param vetting: judge the server's certificate after each TLS
            handshake (L{chatroom.client.trust}), before anything is sent.
        """
        self.reactor = reactor
        self.host = host
        self.port = port
        self.udp = udp
        self.ui = ui
        self.tlsOptions = tlsOptions
        self.vetting = vetting
        self.terminal = terminal
        self.paint = paint
        self.machine = ClientMachine(
            self, name, "UDP" if udp else "TCP", offerGhost, terminal=terminal, paint=paint
        )
        self.machine.comesBack = comesBack
        self.reconnector = Reconnector(
            reactor, self._notice, self._connect, self._gaveUp, status=self._countdown
        )
        self.status: int | None = None
        self.done: Deferred[int] = Deferred()
        self._link: TCPClientProtocol | UDPClientProtocol | DTLSClientProtocol | None = None
        # A connection whose certificate is being judged: not the machine's yet.
        self._judged: TCPClientProtocol | DTLSClientProtocol | None = None
        self._session: object | None = None  # tells this session's events from stale ones
        self._waitNotice: Any = None  # the "still waiting" notice, while it is due

    # Connecting.

    def start(self) -> None:
        self._connect()

    def _listener(self) -> Listener:
        """
        Events from one session only: a replaced session's late events are
        not the machine's concern.
        """
        session = object()
        self._session = session
        answered = False

        def frame(line: str) -> None:
            nonlocal answered
            if self._session is session:
                answered = True
                self._cancelWaitNotice()
                self.machine.frameReceived(line)

        def lost() -> None:
            if self._session is session:
                if answered or not self.udp:
                    self.machine.connectionLost()
                else:
                    self._noAnswer(_("The server at {host} port {port} did not answer; giving up."))

        def refused() -> None:
            if self._session is session:
                if answered:
                    self.machine.connectionLost()
                else:
                    self._noAnswer(
                        _(
                            "The server at {host} port {port} does not answer"
                            " (nothing is listening on that UDP port)."
                        )
                    )

        def tlsFailed(reason: Failure) -> None:
            if self._session is session:
                self._untrusted(reason)

        def secured(connection: Any) -> None:
            if self._session is session and self.vetting is not None:
                self._judge(connection)

        return Listener(frame, lost, refused, tlsFailed, secured)

    def _noAnswer(self, sentence: str) -> None:
        """
        A UDP server that never answered: C{sentence} says how, with the
        C{host} and C{port} fields.
        """
        if self.machine.away:
            self.away(_("the server does not answer"))
            return
        self.ui.show(sentence.format(host=self.host, port=self.port))
        self.finish(1)

    def _untrusted(self, reason: Failure) -> None:
        """
        TLS failed: the certificate is not trusted (or the server does not
        speak TLS). Trying again would only fail again.
        """
        self.ui.show(
            _("TLS with {host} port {port} failed: {why}.").format(
                host=self.host, port=self.port, why=tls.describe(reason)
            )
        )
        self.ui.show(tls.advice(reason))
        self.finish(UNTRUSTED)

    def _stillWaiting(self) -> None:
        self._waitNotice = None
        self.ui.show(
            _("Still waiting for the server at {host} port {port} to answer...").format(
                host=self.host, port=self.port
            )
        )

    def _cancelWaitNotice(self) -> None:
        notice, self._waitNotice = self._waitNotice, None
        if notice is not None and notice.active():
            notice.cancel()

    def _connect(self) -> None:
        self._closeLink()
        listener = self._listener()
        if self.udp:
            self._connectUDP(listener)
            return
        judged = self.vetting is not None
        d = connectProtocol(self._endpoint(), TCPClientProtocol(listener, held=judged))
        # Whatever becomes of that attempt, nobody waits for it forever. Its
        # cancellation is reported as such ("no answer within"), not turned
        # into the TimeoutError the endpoint's own timeout raises.
        d.addTimeout(CONNECT_LIMIT, self.reactor, onTimeoutCancel=lambda result, _: result)
        d.addCallbacks(self._securing if judged else self._linked, self._cannotConnect)

    def _endpoint(self) -> Any:
        """
        A literal address is connected to directly; only a name needs
        HostnameEndpoint (and its resolver thread).
        """
        endpoint: Any
        if isIPAddress(self.host):
            endpoint = TCP4ClientEndpoint(self.reactor, self.host, self.port, timeout=10)
        elif isIPv6Address(self.host):
            endpoint = TCP6ClientEndpoint(self.reactor, self.host, self.port, timeout=10)
        else:
            endpoint = HostnameEndpoint(self.reactor, self.host, self.port, timeout=10)
        if self.tlsOptions is not None:
            return wrapClientTLS(self.tlsOptions, endpoint)
        return endpoint

    def _connectUDP(self, listener: Listener) -> None:
        try:
            family, _, _, _, address = socket.getaddrinfo(
                self.host, self.port, type=socket.SOCK_DGRAM
            )[0]
        except OSError as e:
            self._cannotConnect(Failure(e))
            return
        assert isinstance(address[0], str)  # IPv4 or IPv6, as asked
        link: UDPClientProtocol | DTLSClientProtocol
        if self.tlsOptions is None:
            link = UDPClientProtocol(address, listener, self.reactor, probeWith=self.reactor)
        else:  # DTLSOptions, from --udp --tls
            link = DTLSClientProtocol(
                address, listener, self.reactor, self.tlsOptions, probeWith=self.reactor
            )
        interface = "::" if family == socket.AF_INET6 else "0.0.0.0"
        self.reactor.listenUDP(0, link, interface=interface, maxPacketSize=65535)
        self._cancelWaitNotice()
        self._waitNotice = self.reactor.callLater(WAIT_NOTICE, self._stillWaiting)
        if self.vetting is not None and isinstance(link, DTLSClientProtocol):
            self._securing(link)  # its certificate is judged once the handshake is done
        else:
            self._linked(link)

    def _securing(self, link: TCPClientProtocol | DTLSClientProtocol) -> None:
        """
        Connected: the TLS handshake goes on, then L{_judge} decides.
        """
        self._judged = link

    def _judge(self, connection: Any) -> None:
        """
        The handshake is done: let the connection in if its certificate is
        trusted; otherwise close it, and ask (then connect again) or refuse
        (L{CertificateJudge}). Nothing was sent before this, nothing shown.
        """
        assert self.vetting is not None  # only called with it
        link = self._judged
        if link is None:
            return
        judge = CertificateJudge(self.vetting, self.ui, self.terminal)
        if judge.trusts(connection):
            self._judged = None
            self._linked(link)
            link.release()
            return
        self._closeLink()  # nothing is said on a connection not trusted
        judge.settle().addCallback(self._settled)

    def _settled(self, trusted: bool) -> None:
        if self.status is None:
            if trusted:
                self._connect()
            else:
                self.finish(UNTRUSTED)

    def _linked(self, link: TCPClientProtocol | UDPClientProtocol | DTLSClientProtocol) -> None:
        self._link = link
        self.machine.connected()

    def _cannotConnect(self, failure: Failure) -> None:
        if failure.check(CancelledError, ConnectingCancelledError):
            reason = _("no answer within {seconds:g} seconds").format(seconds=CONNECT_LIMIT)
        else:
            reason = whyNotConnected(failure, self.host)
        if self.machine.away:
            self.away(reason)
            return
        self.ui.show(
            _("Cannot connect to {host} port {port}: {why}").format(
                host=self.host, port=self.port, why=reason
            )
        )
        self.finish(1)

    def _closeLink(self) -> None:
        self._cancelWaitNotice()
        link, self._link = self._link, None
        judged, self._judged = self._judged, None
        self._session = None
        for each in (link, judged):
            if each is not None:
                each.close()

    # ClientView

    def send(self, frame: str) -> None:
        if self._link is not None:
            self._link.sendFrame(frame)

    def show(self, text: str) -> None:
        self.ui.show(text)

    def ask(self, prompt: str, secret: bool = False, default: str = "") -> None:
        d = self.ui.ask(prompt, secret, default)
        d.addCallbacks(self._answered, lambda failure: None)

    def _answered(self, text: str | Interrupted | None) -> None:
        if self.status is None:
            try:
                if isinstance(text, Interrupted):
                    self.machine.interrupted(text.typed)
                else:
                    self.machine.answer(text)
            # A bug of ours must not leave a dead terminal: say so, and leave.
            except Exception as e:  # noqa: BLE001
                self.ui.show(_("Internal error: {error!r}; leaving.").format(error=e))
                self.finish(1)

    def reconnect(self) -> None:
        self._connect()

    def away(self, why: str) -> None:
        """
        The session is over (or an attempt to come back failed): close what
        is left of it, and try again after a while.
        """
        self._session = None  # the old session's late events are not ours
        self.reactor.callLater(0, self._closeLink)  # after its last frame is acked
        self.reconnector.lost(why)

    def back(self) -> None:
        self.reconnector.succeeded()

    def _notice(self, text: str) -> None:
        """
        The reconnector's lines (the loss, the countdown), coloured as notices.
        """
        self.ui.show(self.paint("notice", text))

    def _countdown(self, text: str) -> None:
        """
        The countdown to the next attempt: one line, rewritten (L{UI.status}).
        """
        self.ui.status(self.paint("notice", text))

    def _gaveUp(self, why: str) -> None:
        self.ui.show(why)
        self.finish(1)

    def finish(self, status: int) -> None:
        if self.status is not None:
            return
        self.status = status
        self.reconnector.stop()
        self._cancelWaitNotice()
        self.reactor.callLater(0, self._closeLink)  # after this frame is acked
        self.ui.close().addBoth(lambda _: self.done.callback(status))

    # Leaving on a signal.

    def leave(self) -> Deferred[int] | None:
        """
        Leave politely (C{C EX}) before the reactor stops, waiting a little
        for the server's goodbye.
        """
        if self.status is not None:
            return None
        self.machine.answer(None)
        if self.status is None:
            self.reactor.callLater(LEAVE_GRACE, self.finish, 0)
        return self.done
