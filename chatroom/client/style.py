"""
Colours for the client's lines, and when to use them.

The machine names what a piece of text is (a time, your own message, a
direct message...); this module decides what that looks like. Colours are
used only on a terminal that can show them, and never when C{NO_COLOR} is
set to anything but an empty string (https://no-color.org) or the output
is piped, where escape codes would only get in a script's way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TextIO

#: What a piece of text is -> its SGR parameters.
COLOURS: dict[str, str] = {
    "time": "2",  # dim: there, but not in the way
    "own": "1;32",  # your own messages, bold green
    "direct": "1;35",  # direct messages, both ways, bold magenta
    "notice": "36",  # arrivals, departures, who is online
    "earlier": "2",  # history and other things said before you came
    "problem": "33",  # what was refused or went wrong
}

#: How a client paints: (what it is, the text) -> the text as shown.
Painter = Callable[[str, str], str]


def plain(role: str, text: str) -> str:
    """
    No colours at all (pipes, C{NO_COLOR}, dumb terminals).
    """
    return text


def ansi(role: str, text: str) -> str:
    """
    C{text} in the colour of C{role}, reset afterwards.
    """
    sgr = COLOURS.get(role)
    return f"\x1b[{sgr}m{text}\x1b[0m" if sgr else text


def painterFor(stream: TextIO, environ: Mapping[str, str] | None = None) -> Painter:
    """
    L{ansi} when C{stream} is a terminal that wants colours, else L{plain}.
    """
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return plain
    try:
        atTerminal = stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        atTerminal = False
    return ansi if atTerminal else plain
