"""
Starting the server, and failing to, told in one line.

twistd reports an exception raised while the application starts with a
traceback, which buries the one thing an operator needs to read: which
port, address or file is wrong. L{StartupError} carries that sentence, and
L{reportStartupErrors} makes the process print just that sentence when one
escapes twistd. twistd still does its own cleaning up first (it removes its
PID file, and a daemon's parent prints the message and exits 1).

L{ServerService} is the top of the service tree: whoever starts it (twistd,
twist, a test), every listener binds before any other service starts, so a
port that is taken stops the start before anything is created. A failure
found once the server runs (a listener whose endpoint answers late) goes
through L{stopServer}, which stops the reactor and is remembered for the
exit status.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType

from twisted.application.service import MultiService, Service
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.internet.error import ReactorNotRunning
from twisted.internet.interfaces import IReactorCore
from twisted.logger import Logger

_log = Logger()

#: What made the server stop after it had started, if anything did.
_stoppedBy: list[StartupError] = []


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


def stopServer(reactor: IReactorCore, error: StartupError) -> None:
    """
    The server cannot go on serving: say why, critically, and stop it.

    L{stoppedBy} tells the command that ran the reactor, so that it can
    exit with a failure status.
    """
    _stoppedBy.append(error)
    _log.critical("{error}; stopping the server", error=error)
    try:
        reactor.stop()
    except ReactorNotRunning:  # stopping already
        pass


def stoppedBy() -> StartupError | None:
    """
    The error that L{stopServer} stopped this process's server for, if any.
    """
    return _stoppedBy[0] if _stoppedBy else None


class ServerService(MultiService):
    """
    The server's services, started so that a failed start creates nothing.

    Children start in order and stop in reverse, the listeners and the room
    all at once (UDP keeps its socket until the room said goodbye to every
    UDP client); children marked C{foundation} (the account store, the
    hashing threads) stop only after all the others have, so the store
    closes after the room's goodbyes. L{privilegedStartService} (where the
    listeners bind) runs before any child's L{startService}, even under a
    runner that calls only L{startService}; and a start that fails half way
    stops what it had started, so nothing is left listening.
    """

    _privileged = False

    def privilegedStartService(self) -> None:
        self._privileged = True
        try:
            super().privilegedStartService()
        except BaseException:
            self._undo()
            raise

    def startService(self) -> None:
        if not self._privileged:
            self.privilegedStartService()
        try:
            super().startService()
        except BaseException:
            self._undo()
            raise

    def stopService(self) -> Deferred[None]:
        Service.stopService(self)
        children = list(self)[::-1]
        first = [c for c in children if not getattr(c, "foundation", False)]
        then = [c for c in children if getattr(c, "foundation", False)]
        d: Deferred[object] = DeferredList([maybeDeferred(c.stopService) for c in first])
        for child in then:
            d.addCallback(lambda _, child=child: child.stopService())
        return d.addCallback(lambda _: None)

    def _undo(self) -> None:
        """
        Stop the children that started, or bound, before a start failed.
        """
        self.running = False
        for child in reversed(list(self)):
            if child.running or getattr(child, "bound", False):
                child.stopService()
