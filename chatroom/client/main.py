"""
C{chatclient HOST PORT USERNAME [--udp]}: the program people chat with.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import socket
import sys
from typing import Any

from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    connectProtocol,
)
from twisted.internet.error import ConnectingCancelledError
from twisted.internet.interfaces import IReactorFromThreads
from twisted.python.failure import Failure

from chatroom import names
from chatroom.client.machine import ClientMachine
from chatroom.client.style import Painter, painterFor, plain
from chatroom.client.terminal import INTERRUPTED, UI, Interrupted, LineUI, TerminalUI
from chatroom.client.text import UnknownLanguage, _, available, install, translationFor
from chatroom.client.transports import Listener, TCPClientProtocol, UDPClientProtocol

#: How long leaving may wait for the server's BYE.
LEAVE_GRACE = 3.0

#: How long a connection attempt may take, whatever happens inside it.
CONNECT_LIMIT = 30.0

#: After this long without a word from a UDP server, say that we wait.
WAIT_NOTICE = 3.0

DESCRIPTION = """\
Chat in a chatroom server's room, over TCP (the default) or UDP.

You log in as USERNAME: the first time, you choose its password; after
that, you give it. Then, at "Operation [PM/DM/EX]:",

  PM   sends a public message to everyone online,
  DM   shows who is online and sends a direct message to one of them,
  EX   leaves (so do exit, quit, goodbye, görüşürüz and !q).

Messages from others, and people joining and leaving, are printed as they
arrive, even while you type. Ctrl-C or the end of input leaves politely.

If USERNAME is in use, perhaps by your own other session (a UDP client
that vanished, another terminal), the client offers to end that session:
give your password as usual and you take the name over; the other session
is told so and ends. At "Username:", the answer !ghost does the same.

Without a terminal, each line of standard input answers the next prompt:

  printf 'secret\\nPM\\nhello\\nEX\\n' | chatclient 127.0.0.1 9000 alice

Exit status: 0 after leaving (or when the server shuts down, or when you
logged in again elsewhere), 1 when the connection is lost or refused, 2 for
a bad command line.
"""


def parseArguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="chatclient",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("host", help="the server's name or address")
    parser.add_argument("port", type=int, help="the server's port (TCP, or UDP with --udp)")
    parser.add_argument("username", help="your name in the room (1-32 letters, digits, _ - .)")
    parser.add_argument("--udp", action="store_true", help="connect over UDP instead of TCP")
    parser.add_argument(
        "--lang",
        metavar="LANGUAGE",
        help=f"the language of prompts and notices: {', '.join(available())}"
        " (default: from LANGUAGE, LC_ALL, LC_MESSAGES or LANG; English otherwise)",
    )
    args = parser.parse_args(argv)
    try:
        args.translation = translationFor(args.lang)
    except UnknownLanguage as e:
        parser.error(f"--lang: {e}")
    if not 0 < args.port < 65536:
        parser.error(f"{args.port} is not a port number")
    try:
        args.username = names.validate(args.username)
    except names.BadName as e:
        parser.error(f"that username cannot be used: {e}")
    return args


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
    ) -> None:
        """
        @param offerGhost: a person answers at a terminal: offer to end
            their own other session when the name is taken.
        @param terminal: a person answers at a terminal (see
            L{ClientMachine.terminal}).
        @param paint: how lines are coloured, if at all.
        """
        self.reactor = reactor
        self.host = host
        self.port = port
        self.udp = udp
        self.ui = ui
        self.machine = ClientMachine(
            self, name, "UDP" if udp else "TCP", offerGhost, terminal=terminal, paint=paint
        )
        self.status: int | None = None
        self.done: Deferred[int] = Deferred()
        self._link: TCPClientProtocol | UDPClientProtocol | None = None
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
                    self._noAnswer(_("did not answer; giving up"))

        def refused() -> None:
            if self._session is session:
                if answered:
                    self.machine.connectionLost()
                else:
                    self._noAnswer(_("does not answer (nothing is listening on that UDP port)"))

        return Listener(frame, lost, refused)

    def _noAnswer(self, why: str) -> None:
        self.ui.show(
            _("The server at {host} port {port} {why}.").format(
                host=self.host, port=self.port, why=why
            )
        )
        self.finish(1)

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
        d = connectProtocol(self._endpoint(), TCPClientProtocol(listener))
        # Whatever becomes of that attempt, nobody waits for it forever. Its
        # cancellation is reported as such ("no answer within"), not turned
        # into the TimeoutError the endpoint's own timeout raises.
        d.addTimeout(CONNECT_LIMIT, self.reactor, onTimeoutCancel=lambda result, _: result)
        d.addCallbacks(self._linked, self._cannotConnect)

    def _endpoint(self) -> Any:
        """
        A literal address is connected to directly; only a name needs
        HostnameEndpoint (and its resolver thread).
        """
        if isIPAddress(self.host):
            return TCP4ClientEndpoint(self.reactor, self.host, self.port, timeout=10)
        if isIPv6Address(self.host):
            return TCP6ClientEndpoint(self.reactor, self.host, self.port, timeout=10)
        return HostnameEndpoint(self.reactor, self.host, self.port, timeout=10)

    def _connectUDP(self, listener: Listener) -> None:
        try:
            family, _, _, _, address = socket.getaddrinfo(
                self.host, self.port, type=socket.SOCK_DGRAM
            )[0]
        except OSError as e:
            self._cannotConnect(Failure(e))
            return
        assert isinstance(address[0], str)  # IPv4 or IPv6, as asked
        link = UDPClientProtocol(address, listener, self.reactor, probeWith=self.reactor)
        interface = "::" if family == socket.AF_INET6 else "0.0.0.0"
        self.reactor.listenUDP(0, link, interface=interface, maxPacketSize=65535)
        self._cancelWaitNotice()
        self._waitNotice = self.reactor.callLater(WAIT_NOTICE, self._stillWaiting)
        self._linked(link)

    def _linked(self, link: TCPClientProtocol | UDPClientProtocol) -> None:
        self._link = link
        self.machine.connected()

    def _cannotConnect(self, failure: Failure) -> None:
        if failure.check(CancelledError, ConnectingCancelledError):
            reason = _("no answer within {seconds:g} seconds").format(seconds=CONNECT_LIMIT)
        else:
            reason = failure.getErrorMessage()
        self.ui.show(
            _("Cannot connect to {host} port {port}: {why}").format(
                host=self.host, port=self.port, why=reason
            )
        )
        self.finish(1)

    def _closeLink(self) -> None:
        self._cancelWaitNotice()
        link, self._link = self._link, None
        self._session = None
        if link is not None:
            link.close()

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
                if text is INTERRUPTED:
                    self.machine.interrupted()
                else:
                    assert not isinstance(text, Interrupted)
                    self.machine.answer(text)
            # A bug of ours must not leave a dead terminal: say so, and leave.
            except Exception as e:  # noqa: BLE001
                self.ui.show(_("Internal error: {error}; leaving.").format(error=repr(e)))
                self.finish(1)

    def reconnect(self) -> None:
        self._connect()

    def finish(self, status: int) -> None:
        if self.status is not None:
            return
        self.status = status
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


def main(argv: list[str] | None = None) -> int:
    args = parseArguments(sys.argv[1:] if argv is None else argv)
    # Once, before any sentence is made (see chatroom.client.text).
    install(args.translation)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):  # as a process's own streams are
            stream.reconfigure(errors="replace")

    # prompt_toolkit lives on asyncio, so Twisted runs on asyncio too.
    from twisted.internet import asyncioreactor

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    asyncioreactor.install(loop)
    from twisted.internet import reactor

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    client: ChatClient | None = None

    def begin() -> None:
        nonlocal client
        ui: UI = TerminalUI() if interactive else LineUI(IReactorFromThreads(reactor))
        client = ChatClient(
            reactor,
            args.host,
            args.port,
            args.username,
            args.udp,
            ui,
            offerGhost=interactive,
            terminal=interactive,
            paint=painterFor(sys.stdout) if interactive else plain,
        )
        client.done.addBoth(lambda _: reactor.stop())
        client.start()

    reactor.callWhenRunning(begin)
    reactor.addSystemEventTrigger("before", "shutdown", lambda: client and client.leave())
    reactor.run()
    return 1 if client is None or client.status is None else client.status


def run() -> None:
    sys.exit(main())
