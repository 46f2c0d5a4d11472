"""
What the chat client does, as a state machine without any I/O.

The machine reads server frames and the user's answers to prompts, and
says what to send, what to show and what to ask next, through a
L{ClientView}. Terminals, pipes, TCP and UDP are somebody else's business,
so every path through a conversation can be tested by feeding it lines.
"""

from __future__ import annotations

import unicodedata
from typing import Protocol

from chatroom import codec
from chatroom.client.text import _
from chatroom.codec import Err, Reason

#: Answers to the operation prompt that leave, besides EX (any case).
LEAVE_WORDS = frozenset({"ex", "exit", "quit", "goodbye", "görüşürüz", "!q"})

#: The answer to "Username:" (any case) that logs in with the same name
#: again, ending the user's own other session (1.1 GHOST). No name can
#: start with "!", so a script's answer is never mistaken for one.
GHOST_WORD = "!ghost"

#: Answers to the "end the other session?" question that mean yes.
YES_WORDS = frozenset({"y", "yes"})

# Where the conversation is.
CONNECTING = "CONNECTING"  # waiting for the transport
LOGGING_IN = "LOGGING_IN"  # LOGIN sent, waiting for PASSWORD or WELCOME
PASSWORD = "PASSWORD"  # asking the user for the password
PASS_SENT = "PASS_SENT"  # waiting for WELCOME
NAMING = "NAMING"  # asking the user for another name
REPLACING = "REPLACING"  # asking whether to end the user's other session (GHOST)
OPERATION = "OPERATION"  # asking "Operation [PM/DM/EX]"
WAIT_ACK = "WAIT_ACK"  # C PM sent
PM_TEXT = "PM_TEXT"  # asking for the public message
WAIT_USERS = "WAIT_USERS"  # C DM sent
DM_TARGET = "DM_TARGET"  # asking whom to write to
DM_TEXT = "DM_TEXT"  # asking for the direct message
WAIT_OK = "WAIT_OK"  # a D frame sent, waiting for OK or an error
LEAVING = "LEAVING"  # C EX sent
DONE = "DONE"


class ClientView(Protocol):
    """
    Everything the machine asks of the world around it.
    """

    def send(self, frame: str) -> None:
        """Send one frame to the server."""

    def show(self, text: str) -> None:
        """Print a line for the user (above any prompt being typed at)."""

    def ask(self, prompt: str, secret: bool = False) -> None:
        """Prompt the user; the answer comes back through L{answer}."""

    def reconnect(self) -> None:
        """Open a new session with the server; L{connected} follows."""

    def away(self, why: str) -> None:
        """
        The session was lost (or an attempt to come back failed): try again
        later (only asked of a machine that L{ClientMachine.comesBack}).
        """

    def back(self) -> None:
        """Logged in again after L{away}."""

    def finish(self, status: int) -> None:
        """The conversation is over; exit with C{status}."""


def messageProblem(frame: str) -> str | None:
    """
    Why a frame could not be sent as typed, in plain words, or L{None}.
    """
    if codec.hasControl(frame):
        return "Messages cannot contain control characters."
    size = len(frame.encode("utf-8"))
    if size > codec.MAX_CLIENT_FRAME:
        return f"That message is too long by {size - codec.MAX_CLIENT_FRAME} bytes."
    return None


class ClientMachine:
    """
    One user's conversation with the server, across reconnections.

    @ivar name: the name we log in with (the server's spelling once welcomed).
    @ivar transport: C{"TCP"} or C{"UDP"}.
    @ivar offerGhost: when the name is taken, ask whether to end the user's
        own other session (at a terminal); otherwise, ask for another name
        as version 1 clients did, where C{!ghost} asks for it instead.
    """

    def __init__(
        self, view: ClientView, name: str, transport: str, offerGhost: bool = False
    ) -> None:
        self.view = view
        self.name = name
        self.transport = transport
        self.offerGhost = offerGhost
        self.state = CONNECTING
        self.welcomed = False
        self.sessionAlive = False
        self._password: str | None = None  # kept only to log in again
        self._newAccount = False
        self._ghost = False  # logging in with GHOST: the user asked to replace
        self._target = ""
        self._users: list[str] = []  # entries of a C USERS list still arriving
        self._lastError: Err | None = None  # the code of the last frame, if it was C ERR
        #: Come back after a lost session, with the password held in memory.
        self.comesBack = False
        self.away = False  # welcomed once, then lost: coming back
        self._resumeAt = OPERATION  # the prompt showing while away

    # Events from the transport.

    def connected(self) -> None:
        """
        A session with the server is open (again): log in.
        """
        self.sessionAlive = True
        self._users = []
        self._lastError = None
        if not self.welcomed and self.state != DONE:
            self._logIn()

    def connectionLost(self) -> None:
        self.sessionAlive = False
        if self.state == DONE:
            return
        if self.state == LEAVING:
            self._finish("Bye.", 0)
        elif self._lastError is Err.BAD_PASSWORD and not self.welcomed:
            # The server closes the session at the third wrong password.
            self._finish("Wrong password, too many times.", 1)
        elif self.state in (PASSWORD, NAMING, REPLACING) and not self.welcomed:
            pass  # the login timed out at a prompt: reconnect after the answer
        elif self.comesBack and (self.welcomed or self.away):
            self._goAway(_("Lost connection to the server."))
        else:
            self._finish("Lost connection to the server.", 1)

    def frameReceived(self, line: str) -> None:
        self._lastError = None
        kind, _, rest = line.partition(" ")
        if kind == "D":
            self._data(rest)
        elif kind == "C":
            verb, _, rest = rest.partition(" ")
            handler = getattr(self, f"_on{verb}", None)
            if handler is not None:
                handler(rest)

    # Answers from the user; None means end of input (or Ctrl-C).

    def answer(self, text: str | None) -> None:
        if text is None:
            self._leave()
            return
        if self.away:
            self._answeredWhileAway(text)
            return
        handler = {
            PASSWORD: self._gotPassword,
            NAMING: self._gotName,
            REPLACING: self._gotReplace,
            OPERATION: self._gotOperation,
            PM_TEXT: self._gotPublicText,
            DM_TARGET: self._gotTarget,
            DM_TEXT: self._gotDirectText,
        }.get(self.state)
        if handler is not None:
            handler(text)

    # Logging in.

    def _logIn(self) -> None:
        self.state = LOGGING_IN
        # Coming back, our own lost session may still hold the name.
        ghost = self._ghost or self.away
        self.view.send(f"C LOGIN {self.name} GHOST" if ghost else f"C LOGIN {self.name}")

    def _onHELLO(self, rest: str) -> None:
        pass

    def _onPASSWORD(self, rest: str) -> None:
        self._newAccount = rest == "NEW"
        if self.away and self._password is None:
            self._finish(_("The server now asks for a password: start chatclient again."), 1)
            return
        if self._password is not None:
            # Logging in again after a time-out: the user already answered.
            self.view.send(f"C PASS {self._password}")
            self.state = PASS_SENT
            return
        self.state = PASSWORD
        if self._newAccount:
            self.view.ask(f"Choose a password for {self.name}: ", secret=True)
        else:
            self.view.ask("Password: ", secret=True)

    def _gotPassword(self, password: str) -> None:
        if not password:
            self.view.show("The password cannot be empty.")
            self._onPASSWORD("NEW" if self._newAccount else "EXISTING")
            return
        self._password = password
        if self.sessionAlive:
            self.view.send(f"C PASS {password}")
            self.state = PASS_SENT
        else:
            self.view.reconnect()

    def _onWELCOME(self, rest: str) -> None:
        parts = rest.split(" ", 2)
        self.name = parts[0]
        if not self.comesBack:
            self._password = None
        self._ghost = False
        self.welcomed = True
        if self.away:
            self._resume()
            return
        self.view.show(parts[2] if len(parts) == 3 else f"Welcome {self.name}.")
        self._askOperation()

    def _gotName(self, name: str) -> None:
        if name.strip().casefold() == GHOST_WORD:
            self._replace()
            return
        self.name = name.strip()
        if not self.name:
            self.view.ask("Username: ")
            return
        self._password = None
        self._ghost = False
        self._relogIn()

    def _gotReplace(self, answer: str) -> None:
        if answer.strip().casefold() in YES_WORDS:
            self._replace()
        else:
            self.view.show("Please enter a different username.")
            self._askName()

    def _replace(self) -> None:
        """
        Log in as the same name again with GHOST: once the password is
        right, the server ends the user's other session.
        """
        self._ghost = True
        self._password = None
        self._relogIn()

    def _relogIn(self) -> None:
        if self.sessionAlive:
            self._logIn()
        else:
            self.view.reconnect()

    # Operations.

    def _askOperation(self) -> None:
        self.state = OPERATION
        self.view.ask("Operation [PM/DM/EX]: ")

    def _gotOperation(self, text: str) -> None:
        operation = text.strip()
        if operation.upper() == "PM":
            self.state = WAIT_ACK
            self.view.send("C PM")
        elif operation.upper() == "DM":
            self.state = WAIT_USERS
            self.view.send("C DM")
        elif operation.casefold() in LEAVE_WORDS or operation.upper() == "EX":
            self._leave()
        else:
            if operation:
                self.view.show(f"Unknown operation {operation!r}: type PM, DM or EX.")
            self._askOperation()

    def _onACK(self, rest: str) -> None:
        if self.state == WAIT_ACK:
            self.state = PM_TEXT
            self.view.ask("Message: ")

    def _gotPublicText(self, text: str) -> None:
        self._sendText(f"D {text}", text)

    def _onUSERS(self, rest: str) -> None:
        # 1.1: a long list comes as "C USERS + …" frames, then "C USERS …".
        head, _, entries = rest.partition(" ")
        if head == codec.CONTINUED:
            self._users.append(entries)
            return
        self._users.append(rest)
        listed, self._users = " ".join(part for part in self._users if part), []
        if self.state != WAIT_USERS:
            return
        others = []
        for entry in listed.split(" "):
            who, _, transport = entry.rpartition(":")
            if who and who.casefold() != self.name.casefold():
                others.append(f"{who}[{transport}]")
        if not others:
            self.view.show("Nobody else is online.")
            self._askOperation()
            return
        self.view.show("Online: " + ", ".join(others))
        self.state = DM_TARGET
        self.view.ask("To: ")

    def _gotTarget(self, text: str) -> None:
        target = unicodedata.normalize("NFKC", text.strip())
        if not target:
            self.view.ask("To: ")
            return
        if " " in target:
            self.view.show(f"{target} is not online.")
            self._askOperation()
            return
        self._target = target
        self.state = DM_TEXT
        self.view.ask("Message: ")

    def _gotDirectText(self, text: str) -> None:
        self._sendText(f"D {self._target} {text}", text)

    def _sendText(self, frame: str, text: str) -> None:
        if not text:
            self.view.show("Empty messages are not sent.")
            self._askOperation()
            return
        problem = messageProblem(frame)
        if problem is not None:
            self.view.show(problem)
            self._askOperation()
            return
        self.state = WAIT_OK
        self.view.send(frame)

    def _onOK(self, rest: str) -> None:
        kind, _, detail = rest.partition(" ")
        if kind == "PM":
            count = int(detail) if detail.isdigit() else 0
            self.view.show(f"Sent to {count} user{'' if count == 1 else 's'}.")
        elif kind == "DM":
            self.view.show(f"Delivered to {detail}.")
        if self.state == WAIT_OK:
            self._askOperation()

    # Leaving.

    def _leave(self) -> None:
        if self.state in (LEAVING, DONE):
            return
        if not self.sessionAlive:
            self._finish("Bye.", 0)
            return
        self.state = LEAVING
        self.view.send("C EX")

    def _onBYE(self, rest: str) -> None:
        coming = self.comesBack and self.state != LEAVING and (self.welcomed or self.away)
        if rest == Reason.SHUTDOWN and coming:
            self._goAway(_("The server is shutting down."))
        elif rest == Reason.SHUTDOWN:
            self._finish("The server is shutting down.", 0)
        elif rest == Reason.REPLACED:
            self._finish(
                f"You logged in as {self.name} somewhere else, which ended this session.", 0
            )
        else:
            self._finish("Bye.", 0)

    def _finish(self, text: str, status: int) -> None:
        if self.state != DONE:
            self.state = DONE
            self.sessionAlive = False
            self.view.show(text)
            self.view.finish(status)

    # What others do.

    def _data(self, rest: str) -> None:
        parts = rest.split(" ", 3)
        if len(parts) < 4:
            return
        kind, sender, transport, text = parts
        if kind == "PM":
            self.view.show(f"{sender}[{transport}] : {text}")
        elif kind == "DM":
            self.view.show(f"{sender}[{transport}] (direct) : {text}")

    def _onJOIN(self, rest: str) -> None:
        name, _, transport = rest.partition(" ")
        self.view.show(f"{name} [{transport}] has connected. Welcome!")

    def _onLEAVE(self, rest: str) -> None:
        parts = rest.split(" ")
        if len(parts) >= 3 and parts[2] == Reason.REPLACED:
            self.view.show(f"{parts[0]} [{parts[1]}] has left the chat (logged in again).")
        elif len(parts) >= 2:
            self.view.show(f"{parts[0]} [{parts[1]}] has left the chat.")

    # Errors, in plain words.

    def _onERR(self, rest: str) -> None:
        word, _, text = rest.partition(" ")
        try:
            code: Err | None = Err(word)
        except ValueError:
            code = None  # a code from a later version: explained by its text
        self._lastError = code
        if self.away and not self.welcomed:
            self._refusedWhileAway(code, text)
        elif code is Err.NAME_TAKEN and self.offerGhost and not self._ghost:
            # Perhaps by the user's own other session (a vanished UDP
            # client, another terminal): offer to end it.
            self.view.show(f"The username {self.name} is already in use.")
            self.state = REPLACING
            self.view.ask("If that is you, end your other session and log in here? [y/N]: ")
        elif code is Err.NAME_TAKEN:
            self._ghost = False
            self.view.show("That username is already taken, please enter a different one.")
            self._askName()
        elif code is Err.BAD_NAME:
            self.view.show(f"That username cannot be used: {text}.")
            self._askName()
        elif code is Err.BAD_PASSWORD:
            self._badPassword(text)
        elif code is Err.FULL:
            self._finish("The server is full; please try again later.", 1)
        elif (
            code is Err.STATE and self.state in (PASSWORD, NAMING, REPLACING) and not self.welcomed
        ):
            # At a prompt nothing we sent is unanswered, so this answers no
            # request: it is the login deadline, and the server closes the
            # session; we log in again on a new one after the user answers.
            self.sessionAlive = False
        elif code is Err.NO_SUCH_USER:
            self.view.show(f"{self._target} is not online.")
            self._askOperation()
        elif code is Err.UNAVAILABLE and not self.welcomed:
            # Starting the login again at once would only hit the same
            # locked or unreadable database, as fast as the server answers.
            self._finish("The server cannot log you in right now; please try again later.", 1)
        elif code is Err.RATE and not self.welcomed:
            self._finish("Too many attempts to log in from here; try again in a minute.", 1)
        elif self.state in (LOGGING_IN, PASS_SENT):
            # Something went wrong with the login itself (the server could
            # not check the password, or could not read it): start again.
            self.view.show(_explain(word, text))
            self._password = None
            self._logIn()
        elif self.state in (WAIT_ACK, WAIT_USERS, WAIT_OK):
            self.view.show(_explain(word, text))
            self._askOperation()
        else:
            self.view.show(_explain(word, text))

    def _askName(self) -> None:
        self.state = NAMING
        self._password = None
        self.view.ask("Username: ")

    def _badPassword(self, text: str) -> None:
        # For an existing account BAD_PASSWORD means a wrong password; for a
        # new one, a password the server refused, which its text explains.
        # The third wrong one is told by the server closing the session
        # (see connectionLost), not by its text.
        self._password = None
        self.view.show(f"{text.capitalize()}." if self._newAccount else "Wrong password.")
        # The protocol starts a login again from LOGIN (with GHOST if asked).
        self._logIn()

    # Coming back (the client's reconnect): the prompt showing when the
    # session was lost stays; answers wait for the new session.

    def _goAway(self, why: str) -> None:
        self.sessionAlive = False
        if not self.away:
            self.away = True
            self.welcomed = False
            if self.state == WAIT_OK:
                self.view.show(_("Your last message may not have been delivered."))
            if self.state in (WAIT_ACK, WAIT_USERS, WAIT_OK):
                self._askOperation()
            self._resumeAt = self.state
        self.view.away(why)

    def _resume(self) -> None:
        """
        Welcomed again: back at the prompt that was showing, on a session
        that awaits the same kind of message.
        """
        self.away = False
        self.state = self._resumeAt
        if self.state == PM_TEXT:
            self.view.send("C PM")
        elif self.state in (DM_TARGET, DM_TEXT):
            self.view.send("C DM")
        self.view.back()

    def _answeredWhileAway(self, text: str) -> None:
        if self._resumeAt == OPERATION and text.strip().casefold() in LEAVE_WORDS:
            self._leave()
            return
        if text.strip():
            self.view.show(_("Not connected, so that was not sent (Up brings it back)."))
        prompts = {DM_TARGET: "To: ", PM_TEXT: "Message: ", DM_TEXT: "Message: "}
        self.view.ask(prompts.get(self._resumeAt, "Operation [PM/DM/EX]: "))

    def _refusedWhileAway(self, code: Err | None, text: str) -> None:
        if code in (Err.BAD_PASSWORD, Err.BAD_NAME):
            self._finish(_("Could not log in again: {text}.").format(text=text), 1)
        else:  # NAME_TAKEN (our old session lingers), FULL, RATE, UNAVAILABLE...
            self._goAway(text or str(code))


def _explain(code: str, text: str) -> str:
    explained: dict[str, str] = {
        Err.RATE: "You are sending too fast; that was not sent. Wait a moment and try again.",
        Err.TOO_LONG: "That message is too long; it was not sent.",
        Err.BAD_TEXT: "Empty messages are not sent.",
        Err.BAD_FRAME: f"The server could not read that: {text}.",
    }
    return explained.get(code, f"The server said: {text or code}.")
