"""
C{chatserver PORT [options]}: the short form of C{twistd -n chatroom}.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """
    Run the server in the foreground, logging to standard output.

    C{chatserver 9000 --db x} is C{twistd -n --pidfile= chatroom --port
    9000 --db x}: no PID file, since a foreground server needs none.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0].isdigit():
        args = ["--port", *args]
    sys.argv = ["chatserver", "--nodaemon", "--pidfile=", "chatroom", *args]
    from twisted.scripts.twistd import run

    run()
