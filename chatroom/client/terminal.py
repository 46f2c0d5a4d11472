"""
Talking to the person: prompts, answers and lines printed meanwhile.

On a terminal, prompt_toolkit reads each answer while Twisted (on the
asyncio reactor) keeps receiving; C{patch_stdout} prints incoming messages
above the prompt and redraws the prompt with the half-typed text intact.
prompt_toolkit was chosen over C{twisted.internet.stdio} because it keeps
the line being edited, hides passwords and handles wide and combining
characters, none of which a raw line reader does.

Without a terminal (a pipe or a file), each line of input answers the next
prompt; prompts are printed on lines of their own so that the output reads
as a transcript.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import sys
import threading
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol, TextIO

from twisted.internet.defer import Deferred, DeferredQueue, succeed
from twisted.internet.interfaces import IReactorFromThreads

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession


class Interrupted:
    """
    The answer to a prompt left with Ctrl-C (at a terminal only).

    @ivar typed: something was typed on the line (what, is not passed on:
        it may be a password).
    """

    def __init__(self, typed: bool = False) -> None:
        self.typed = typed

    def __repr__(self) -> str:
        return "INTERRUPTED (typed)" if self.typed else "INTERRUPTED"


#: Up one line, to its start, and clear it (ECMA-48 CUU, CR, EL).
REWRITE = "\x1b[1A\r\x1b[2K"

#: Ctrl-C's mark that something was typed on the line.
TYPED = "typed"

#: Ctrl-C at an empty prompt: it cancels the question, or leaves at the top.
INTERRUPTED = Interrupted()


class UI(Protocol):
    def ask(
        self, prompt: str, secret: bool = False, default: str = ""
    ) -> Deferred[str | Interrupted | None]:
        """
        The answer to C{prompt}, L{None} at the end of input, or
        L{INTERRUPTED} on Ctrl-C. C{default} is text already on the line
        for the person to edit; a pipe has nothing to edit and ignores it.
        """

    def show(self, text: str) -> None:
        """
        Print a line, above the prompt if one is showing.
        """

    def status(self, text: str) -> None:
        """
        Print a line that replaces the one before it if that was a status
        too and nothing was printed since (a countdown); a pipe, which
        cannot take a line back, prints only the first of them.
        """

    def close(self) -> Deferred[None]:
        """
        Stop asking; fires once the terminal is restored.
        """


class LineUI:
    """
    Prompts answered by lines read from a pipe or a file.

    A thread reads the input, so a slow pipe never blocks the reactor; each
    line is kept until a prompt asks for it. It reads the file descriptor
    itself: a thread blocked in Python's buffered I/O would hold a lock that
    the interpreter needs at exit.
    """

    def __init__(
        self,
        reactor: IReactorFromThreads,
        fd: int | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self._reactor = reactor
        self._fd = sys.stdin.fileno() if fd is None else fd
        self._stdout = stdout or sys.stdout
        self._lines: DeferredQueue[str | None] = DeferredQueue()
        self._statusShown = False  # the last line printed is a status
        threading.Thread(target=self._read, name="chatclient-input", daemon=True).start()

    def _read(self) -> None:
        # Bytes that are not UTF-8 become U+FFFD rather than an error.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except OSError:
                break
            pending += decoder.decode(chunk, final=not chunk)
            *lines, pending = pending.split("\n")
            for line in lines:
                self._reactor.callFromThread(self._lines.put, line.removesuffix("\r"))
            if not chunk:
                break
        if pending:
            self._reactor.callFromThread(self._lines.put, pending)
        self._reactor.callFromThread(self._lines.put, None)

    def ask(
        self, prompt: str, secret: bool = False, default: str = ""
    ) -> Deferred[str | Interrupted | None]:
        self.show(prompt.rstrip())
        return self._lines.get()  # type: ignore[return-value]

    def show(self, text: str) -> None:
        self._statusShown = False
        self._stdout.write(text + "\n")
        self._stdout.flush()

    def status(self, text: str) -> None:
        if not self._statusShown:
            self.show(text)
            self._statusShown = True

    def close(self) -> Deferred[None]:
        return succeed(None)


class TerminalUI:
    """
    Prompts on a terminal, with prompt_toolkit.

    Each prompt has a history of its own, so that Up at C{Message:} brings
    back earlier messages and never an answer to another question; the
    password prompt has none at all, and its line is wiped once answered,
    so a password can never be recalled onto the screen or sent as text.
    """

    def __init__(self) -> None:
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.patch_stdout import patch_stdout

        keys = KeyBindings()

        @keys.add("c-c")
        def _interrupt(event) -> None:  # the machine decides: clear, cancel or leave
            typed = bool(event.current_buffer.text.strip())
            event.app.exit(exception=KeyboardInterrupt(TYPED) if typed else KeyboardInterrupt())

        @keys.add("c-d")
        def _endOfInput(event) -> None:
            if not event.current_buffer.text:
                event.app.exit(result=None)

        self._keys = keys
        self._sessions: dict[str | None, PromptSession] = {}  # None: secrets
        self._stdout = sys.stdout  # the terminal itself, not patch_stdout's proxy
        # Entered on the running loop: printing is scheduled on it.
        self._patch: AbstractContextManager[None] | None = patch_stdout(raw=True)
        self._patch.__enter__()
        self._task: asyncio.Future | None = None
        self._asking: PromptSession | None = None  # the session of the prompt showing
        self._statusShown = False  # the last line printed is a status, to rewrite

    def _sessionFor(self, prompt: str, secret: bool) -> PromptSession:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import DummyHistory, InMemoryHistory

        key = None if secret else prompt
        session = self._sessions.get(key)
        if session is None:
            # Each session has its own clipboard too: nothing killed in the
            # password line can be yanked into a message.
            history = DummyHistory() if secret else InMemoryHistory()
            session = PromptSession(key_bindings=self._keys, history=history)
            self._sessions[key] = session
        return session

    async def _prompt(self, prompt: str, secret: bool, default: str) -> str | Interrupted | None:
        session = self._sessionFor(prompt, secret)
        self._asking = session
        session.app.erase_when_done = False
        try:
            return await session.prompt_async(prompt, is_password=secret, default=default)
        except KeyboardInterrupt as interrupt:
            return Interrupted(typed=interrupt.args == (TYPED,))
        except EOFError:
            return None
        finally:
            if secret:
                session.default_buffer.reset()

    def ask(
        self, prompt: str, secret: bool = False, default: str = ""
    ) -> Deferred[str | Interrupted | None]:
        self._task = asyncio.ensure_future(self._prompt(prompt, secret, default))
        return Deferred.fromFuture(self._task)

    async def _closing(self, task: asyncio.Future | None) -> None:
        if task is not None and not task.done():
            # The prompt nobody will answer goes with it: left drawn, it
            # would be the last line on the screen after the client's last
            # word (a takeover's "…ended this session").
            if self._asking is not None:
                self._asking.app.erase_when_done = True
            task.cancel()
            # Let prompt_toolkit leave raw mode before anything else runs.
            await asyncio.gather(task, return_exceptions=True)
        if self._patch is not None:
            patch, self._patch = self._patch, None
            patch.__exit__(None, None, None)

    def show(self, text: str) -> None:
        """
        Print C{text} now, above the prompt if one is showing.

        Not through C{patch_stdout}'s proxy: its thread writes at once when
        no prompt is running, and a prompt starting meanwhile drew itself
        over those lines (the room's arrival vanished from the screen). Here
        the loop itself decides, and nothing can start in between.
        """
        from prompt_toolkit.application import get_app_or_none, run_in_terminal

        self._statusShown = False
        app = get_app_or_none()
        if app is not None and app.is_running:
            run_in_terminal(lambda: self._write(text), in_executor=False)
        else:
            self._write(text)

    def status(self, text: str) -> None:
        """
        A status line, written over the one before it if that was a status
        too: the cursor goes up a line (above the prompt, which is redrawn
        after) and clears it.
        """
        from prompt_toolkit.application import get_app_or_none, run_in_terminal

        rewrite, self._statusShown = self._statusShown, True
        line = (REWRITE if rewrite else "") + text
        app = get_app_or_none()
        if app is not None and app.is_running:
            run_in_terminal(lambda: self._write(line), in_executor=False)
        else:
            self._write(line)

    def _write(self, text: str) -> None:
        self._stdout.write(text + "\n")
        self._stdout.flush()

    def close(self) -> Deferred[None]:
        return Deferred.fromFuture(asyncio.ensure_future(self._closing(self._task)))
