"""
C{chatclient} on a real pseudo-terminal, judged by what the screen shows.

pexpect runs C{chatclient} on a pty; pyte, a terminal emulator, turns what
it writes into the screen a person would see.
"""

from __future__ import annotations

import time

import pexpect
import pyte

from helpers.wire import installed

COLUMNS, ROWS = 100, 24


class Screen:
    def __init__(self, *args: str) -> None:
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.child = pexpect.spawn(
            installed("chatclient"), list(args), dimensions=(ROWS, COLUMNS), timeout=10
        )

    def pump(self, seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.05))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                return

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display if line.strip()]

    def waitFor(self, text: str, seconds: float = 10) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump(0.1)
            if any(text in line for line in self.lines()):
                return
        raise AssertionError(f"{text!r} not on screen:\n" + "\n".join(self.lines()))

    def waitForPrompt(self, prompt: str, seconds: float = 10) -> None:
        """
        Wait until the last line on screen is C{prompt}, nothing typed yet.
        """
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump(0.1)
            if self.lines() and self.lines()[-1] == prompt:
                return
        raise AssertionError(f"{prompt!r} not the last line:\n" + "\n".join(self.lines()))

    def type(self, text: str) -> None:
        self.child.send(text)
