"""
C{chatclient HOST PORT USERNAME [--udp] [--tls]}: the process people chat
with. Its command line is read by L{chatroom.client.arguments}; here the
language is chosen, the asyncio reactor installed (prompt_toolkit lives on
asyncio), the user interface picked (a terminal or a pipe) and one
L{ChatClient} run until it is done.
"""

from __future__ import annotations

import asyncio
import io
import sys

from twisted.internet.interfaces import IReactorFromThreads

from chatroom.client.arguments import chosenLanguage, parseArguments
from chatroom.client.main import ChatClient
from chatroom.client.style import painterFor, plain
from chatroom.client.terminal import UI, LineUI, TerminalUI
from chatroom.client.text import _, install


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Once, before any sentence is made (see chatroom.client.text).
    install(chosenLanguage(argv))
    args = parseArguments(argv)
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
        if args.insecure:
            ui.show(
                _(
                    "Warning: --insecure: the server's certificate is not checked, so anyone"
                    " on the way could read and change this chat."
                )
            )
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
            comesBack=interactive if args.reconnect is None else args.reconnect,
            tlsOptions=args.tlsOptions,
            vetting=args.vetting,
        )
        client.done.addBoth(lambda _: reactor.stop())
        client.start()

    reactor.callWhenRunning(begin)
    reactor.addSystemEventTrigger("before", "shutdown", lambda: client and client.leave())
    reactor.run()
    return 1 if client is None or client.status is None else client.status


def run() -> None:
    sys.exit(main())
