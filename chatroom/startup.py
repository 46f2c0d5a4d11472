"""
Failing to start, told in one line.

twistd reports an exception raised while the application starts with a
traceback, which buries the one thing an operator needs to read: which
port, address or file is wrong. L{StartupError} carries that sentence, and
L{reportStartupErrors} makes the process print just that sentence when one
escapes twistd. twistd still does its own cleaning up first (it removes its
PID file, and a daemon's parent prints the message and exits 1).
"""

from __future__ import annotations

import os
import sys
from types import TracebackType


class StartupError(Exception):
    """
    The server cannot start; the message names what is wrong, for the
    operator, in one line.
    """


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, StartupError):
        # The real stderr: twistd has redirected sys.stderr into its log.
        stream = sys.__stderr__ or sys.stderr
        stream.write(f"{os.path.basename(sys.argv[0])}: {value}\n")
        stream.flush()
    else:
        sys.__excepthook__(kind, value, tb)


def reportStartupErrors() -> None:
    """
    From now on, a L{StartupError} that ends the process prints its message
    alone (the process still exits with status 1); other exceptions keep
    their tracebacks.
    """
    sys.excepthook = _excepthook
