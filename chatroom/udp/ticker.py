"""
The one timer every UDP session shares, run as named phases each guarded on its own.
A bug that makes one phase raise on every tick is logged and cannot stop the others
(idle timeouts above all), nor the timer itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

#: One phase of a tick: a name for the log, and what to run with the time.
Phase = tuple[str, Callable[[float], object]]


class Ticker:
    """
    Runs C{phases}, in order, every C{interval} seconds of C{clock}.

    A phase that raises is logged once when it starts failing and once when
    it works again (not forty times a second in between); the phases after
    it run on the same tick regardless.
    """

    log = Logger()

    def __init__(self, clock: IReactorTime, interval: float, phases: Sequence[Phase]) -> None:
        self.clock = clock
        self.interval = interval
        self.phases = list(phases)
        self.failing: dict[str, int] = {}  # phase name: ticks failed in a row
        self._loop = LoopingCall(self.tick)
        self._loop.clock = clock

    @property
    def running(self) -> bool:
        return self._loop.running

    def start(self) -> None:
        self._loop.start(self.interval, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def tick(self) -> None:
        now = self.clock.seconds()
        for name, phase in self.phases:
            try:
                phase(now)
            except Exception:  # noqa: BLE001 (a bug of ours must not stop the others)
                failed = self.failing.get(name, 0)
                self.failing[name] = failed + 1
                if not failed:
                    self.log.failure("UDP timer: {phase} failed", Failure(), phase=name)
            else:
                if name in self.failing:
                    ticks = self.failing.pop(name)
                    self.log.info(
                        "UDP timer: {phase} works again after {ticks} failed ticks",
                        phase=name,
                        ticks=ticks,
                    )
