"""
Handing freed memory back to the system after a burst.

Python keeps small objects in pools of its own, but everything over 512 bytes
(a connection's output joined for one write, a reliable link's queue blocks, a
grown dict's table) comes from the C library's heap. glibc gives freed heap
memory back to the system only from the top of the heap, so after a burst
(5,000 users logging in are 12.5 million join notices) the chunks freed below
whatever is still in use stay resident, for good. C{malloc_trim(0)} hands back
every free page wherever it lies; it takes about a millisecond on a heap of a
hundred megabytes, and much less on a quiet one.

Elsewhere (another C library, no C{malloc_trim}) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

from twisted.application.service import Service
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall

#: Seconds between trims: soon after a burst, rarely enough to cost nothing.
TRIM_INTERVAL = 1.0


def libcTrim() -> Callable[[], object] | None:
    """
    glibc's C{malloc_trim(0)}, or L{None} where the C library has none.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


class HeapTrimmer(Service):
    """
    Calls C{trim} every C{interval} seconds while running.
    """

    def __init__(
        self,
        clock: IReactorTime,
        trim: Callable[[], object] | None,
        interval: float = TRIM_INTERVAL,
    ) -> None:
        self.trim = trim
        self.interval = interval
        self.trims = 0
        self._loop = LoopingCall(self._trim)
        self._loop.clock = clock

    def _trim(self) -> None:
        if self.trim is not None:
            self.trim()
            self.trims += 1

    def startService(self) -> None:
        super().startService()
        if self.trim is not None:
            self._loop.start(self.interval, now=False)

    def stopService(self) -> None:
        super().stopService()
        if self._loop.running:
            self._loop.stop()
