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
to L{ServerService.failLate}, which stops the reactor and keeps the error
for the command's exit status.

SIGTERM is how a service manager (systemd, docker) asks the server to
stop: Twisted's own handler stops the reactor but then makes twistd and
twist kill themselves with the signal (exit status 143), which reads as a
crash. L{stopCleanlyOnSIGTERM} takes SIGTERM over once the reactor runs,
and stops it the same way without that: a server stopped so exits 0.
"""

from __future__ import annotations

import os
import signal
import sys
from contextlib import suppress
from types import TracebackType

from twisted.application.service import IService, MultiService, Service
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.internet.error import ReactorNotRunning
from twisted.internet.interfaces import IReactorCore
from twisted.logger import Logger


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

    @ivar stoppedBy: the error that stopped the server after it started, if
        one did (see L{failLate}).
    """

    log = Logger()
    _privileged = False

    def __init__(self, reactor: IReactorCore) -> None:
        super().__init__()
        self._reactor = reactor
        self.stoppedBy: StartupError | None = None

    def failLate(self, error: StartupError) -> None:
        """
        The server cannot go on serving (a listener failed after start-up):
        say why, critically, and stop it; the command that ran it reads
        L{stoppedBy} to exit with a failure status.
        """
        if self.stoppedBy is None:
            self.stoppedBy = error
        self.log.critical("{error}; stopping the server", error=error)
        with suppress(ReactorNotRunning):  # stopping already
            self._reactor.stop()

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
        d: Deferred[None] = DeferredList([maybeDeferred(c.stopService) for c in first]).addCallback(
            lambda _: None
        )
        for child in then:
            d.addCallback(_stop, child)
        return d

    def _undo(self) -> None:
        """
        Stop the children that started, or bound, before a start failed.
        """
        self.running = False
        for child in reversed(list(self)):
            if child.running or getattr(child, "bound", False):
                child.stopService()


def _stop(ignored: object, service: IService) -> Deferred[None]:
    return maybeDeferred(service.stopService)


_log = Logger()


def stopCleanlyOnSIGTERM(reactor: IReactorCore) -> None:
    """
    Once C{reactor} runs, replace its SIGTERM handler, if it installed one
    (twistd and twist do; a test's reactor does not), by one that stops it
    as that handler would, but without keeping the signal for the process
    to die of afterwards: a requested stop is a clean one, status 0.
    """

    def terminated(number: int, frame: object) -> None:
        _log.info("Received SIGTERM, shutting down.")
        reactor.callFromThread(reactor.stop)  # type: ignore[attr-defined]

    def take() -> None:
        if signal.getsignal(signal.SIGTERM) == getattr(reactor, "sigTerm", None):
            signal.signal(signal.SIGTERM, terminated)

    reactor.callWhenRunning(take)
