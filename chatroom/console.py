"""
The room's console: every public message is shown, without one log event per
message.

One twisted.logger event costs tens of microseconds (the event, its format
string, the observers, a C{write} to the log file): at a few thousand public
messages a second that is more than fanning them out. So public messages are
gathered and shown as one event of several lines, at most L{PUBLIC_INTERVAL}
after they were sent. Any other event of the room shows what was gathered
first, so the console keeps the room's order: a message sent before a user
left is shown before the user's leaving.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import ILogObserver, Logger, LogLevel

#: How long a public message may wait before the console shows it.
PUBLIC_INTERVAL = 0.1


class Console(Logger):
    """
    A L{Logger} that also gathers public messages, shown as
    C{name[TRANSPORT] : text}, one line each.
    """

    def __init__(
        self,
        clock: IReactorTime,
        namespace: str | None = None,
        source: object | None = None,
        interval: float = PUBLIC_INTERVAL,
        observer: ILogObserver | None = None,
    ) -> None:
        super().__init__(namespace=namespace, source=source, observer=observer)
        self._clock = clock
        self._interval = interval
        self._gathered: list[tuple[str, str, str]] = []
        self._call: IDelayedCall | None = None

    def public(self, name: str, transport: str, text: str) -> None:
        """
        C{name} said C{text} to the room over C{transport}.
        """
        if not self._gathered:
            self._call = self._clock.callLater(self._interval, self.flush)
        self._gathered.append((name, transport, text))

    def flush(self) -> None:
        """
        Show the gathered public messages now.
        """
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        if not self._gathered:
            return
        gathered, self._gathered = self._gathered, []
        # Texts hold no control characters (the codec refuses them), so each
        # message is exactly one line of the event.
        lines = "\n".join([f"{name}[{transport}] : {text}" for name, transport, text in gathered])
        super().emit(LogLevel.info, "{messages}", messages=lines, count=len(gathered))

    def emit(self, level: LogLevel, format: str | None = None, **kwargs: Any) -> None:
        self.flush()
        super().emit(level, format, **kwargs)
