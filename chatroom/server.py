"""
C{chatserver [PORT] [options]}: the room in the foreground, on Twisted's
C{twist} runner.

This module owns only the command line: the port first, mistakes told in
C{chatserver}'s terms, and the exit status; C{twist} runs the same
C{chatroom} plugin as C{twistd}, logging to standard output, with no PID
file.
"""

from __future__ import annotations

import sys

from twisted.python import usage

from chatroom.options import Options
from chatroom.tap import makeService


class CommandOptions(Options):
    """
    The room's options, as C{chatserver} spells them: the port comes first.
    """

    synopsis = "Usage: chatserver [PORT] [options]"
    longdesc = Options.longdesc + (
        " PORT serves TCP and UDP (0: any free port). Without PORT, --port"
        " applies (default 9000). chatserver PORT [options]"
        " is twist --log-format=text chatroom --port PORT [options]; running in"
        " the background, or with twistd's own options (--logfile, --rundir,"
        " ...), needs twistd chatroom."
    )


def _usageError(message: str) -> None:
    sys.stderr.write(
        f"chatserver: {message}\n"
        "Usage: chatserver [PORT] [options] (chatserver --help lists them)\n"
    )
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    """
    Run the server in the foreground, logging to standard output.

    The options are checked here first, so that a mistake is told in
    C{chatserver}'s terms rather than with C{twist}'s usage. A server that
    had to stop for an error after it started (see
    L{chatroom.startup.ServerService.failLate}) exits with status 1; one stopped by
    SIGTERM exits 0 (L{chatroom.startup.stopCleanlyOnSIGTERM}), one stopped by
    another signal dies of that signal, as C{twist} makes it.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if args and not args[0].startswith("-"):
        port, *rest = args
        if not (port.isascii() and port.isdigit() and int(port) <= 65535):
            _usageError(f"PORT must be a number from 0 to 65535 (0: any free port), not {port!r}")
        args = ["--port", port, *rest]
    sys.argv[0] = "chatserver"  # for --help's synopsis and error messages
    try:
        CommandOptions().parseOptions(args)
    except usage.UsageError as e:
        _usageError(str(e))
    # The console script of twist itself: the module is private, its
    # entry point is not. Its main(), step by step, keeping our service.
    from twisted.application.service import Application, IService
    from twisted.application.twist._twist import Twist

    twist = Twist.options(["chatserver", "--log-format=text", "chatroom", *args])
    top = makeService(twist.subOptions)
    application = Application("chatroom")
    top.setServiceParent(application)
    Twist.startService(twist["reactor"], IService(application))
    Twist.run(twist)
    if top.stoppedBy is not None:
        sys.exit(1)
