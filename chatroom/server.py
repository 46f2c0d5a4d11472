"""
C{chatserver PORT [options]}: the short form of C{twistd -n chatroom}.
"""

from __future__ import annotations

import sys

from twisted.python import usage

from chatroom.tap import Options


class CommandOptions(Options):
    """
    The room's options, as C{chatserver} spells them: the port comes first.
    """

    synopsis = "Usage: chatserver PORT [options]"
    longdesc = Options.longdesc + (
        " PORT serves TCP and UDP (0: any free port). chatserver PORT [options]"
        " is twistd -n --pidfile= chatroom --port PORT [options]; twistd's own"
        " options (--logfile, --rundir, daemonising, ...) need that long form."
    )


def _usageError(message: str) -> None:
    sys.stderr.write(
        f"chatserver: {message}\nUsage: chatserver PORT [options] (chatserver --help lists them)\n"
    )
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    """
    Run the server in the foreground, logging to standard output.

    C{chatserver 9000 --db x} is C{twistd -n --pidfile= chatroom --port
    9000 --db x}: no PID file, since a foreground server needs none. The
    options are checked here first, so that a mistake is told in
    C{chatserver}'s terms rather than with twistd's usage.
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
    sys.argv = ["chatserver", "--nodaemon", "--pidfile=", "chatroom", *args]
    from twisted.scripts.twistd import run

    run()
