"""
What the chat client does, as a state machine without any I/O.

The machine reads server frames and the user's answers to prompts, and
says what to send, what to show and what to ask next, through a
L{ClientView}. Terminals, pipes, TCP and UDP are somebody else's business,
so every path through a conversation can be tested by feeding it lines.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chatroom import codec
from chatroom.client.style import Painter, plain
from chatroom.client.text import N_, _, ngettext
from chatroom.codec import Err, Reason

#: Answers to the operation prompt that leave, besides EX (any case).
LEAVE_WORDS = frozenset({"ex", "exit", "quit", "goodbye", "görüşürüz", "!q"})

#: The answer to "Username:" (any case) that logs in with the same name
#: again, ending the user's own other session (1.1 GHOST). No name can
#: start with "!", so a script's answer is never mistaken for one.
GHOST_WORD = "!ghost"

#: Answers to the "end the other session?" question that mean yes.
YES_WORDS = frozenset({"y", "yes", "e", "evet"})

#: Answers to "send that to everyone?" that mean no (Enter means yes).
NO_WORDS = frozenset({"n", "no", "h", "hayır", "hayir"})

#: The server's greeting (C{C WELCOME}'s text), translated when the user's
#: language is not English.
GREETING = N_("Welcome {name}, you are connected via {transport}.")

#: How many earlier public messages are shown on arrival: a screenful.
HISTORY_ON_ARRIVAL = 20

#: Why others leave (C{C LEAVE}'s reason), as the notice tells it.
DEPARTURES = {
    Reason.EXIT: N_("{who} has left the chat."),
    "CLOSED": N_("{who} has left the chat (connection closed)."),
    "TIMEOUT": N_("{who} has left the chat (timed out)."),
    "DROPPED": N_("{who} has left the chat (dropped by the server)."),
    Reason.REPLACED: N_("{who} has left the chat (logged in again)."),
}

HELP = N_("""\
At "Operation [PM/DM/EX]:" you can type
  PM <text>          send <text> to everyone (PM alone asks for the text)
  DM <name> <text>   send <text> to <name> only (DM alone shows who is online and asks)
  WHO                see who is online
  HELP or ?          this help
  EX                 leave (so do exit, quit, goodbye, görüşürüz, !q and Ctrl-D)""")

HELP_AT_TERMINAL = N_("""\
Anything else you type is offered as a public message: Enter sends it, n keeps it back.
A paste of several lines sends one message per line, in order.
Ctrl-C cancels the question being asked; at "Operation" it leaves.""")

# Where the conversation is.
CONNECTING = "CONNECTING"  # waiting for the transport
LOGGING_IN = "LOGGING_IN"  # LOGIN sent, waiting for PASSWORD or WELCOME
PASSWORD = "PASSWORD"  # asking the user for the password
PASSWORD_AGAIN = "PASSWORD_AGAIN"  # asking for a new password a second time
PASS_SENT = "PASS_SENT"  # waiting for WELCOME
NAMING = "NAMING"  # asking the user for another name
REPLACING = "REPLACING"  # asking whether to end the user's other session (GHOST)
ARRIVING = "ARRIVING"  # welcomed; who is online and the history asked for
OPERATION = "OPERATION"  # asking "Operation [PM/DM/EX]"
OFFERING = "OFFERING"  # asking whether text typed there goes to everyone
WAIT_WHO = "WAIT_WHO"  # C WHO sent
WAIT_ACK = "WAIT_ACK"  # C PM sent
PM_TEXT = "PM_TEXT"  # asking for the public message
WAIT_USERS = "WAIT_USERS"  # C DM sent
DM_TARGET = "DM_TARGET"  # asking whom to write to
DM_TEXT = "DM_TEXT"  # asking for the direct message
WAIT_OK = "WAIT_OK"  # a D frame sent, waiting for OK or an error
LEAVING = "LEAVING"  # C EX sent
DONE = "DONE"

#: Prompts of a login in progress: the server's login deadline may pass there.
LOGIN_PROMPTS = (PASSWORD, PASSWORD_AGAIN, NAMING, REPLACING)

#: Questions about one operation, which Ctrl-C cancels.
OPERATION_PROMPTS = (PM_TEXT, DM_TARGET, DM_TEXT, OFFERING)

#: Waiting for the server's answer to an operation.
WAITING = (WAIT_ACK, WAIT_USERS, WAIT_OK, WAIT_WHO)


class ClientView(Protocol):
    """
    Everything the machine asks of the world around it.
    """

    def send(self, frame: str) -> None:
        """Send one frame to the server."""

    def show(self, text: str) -> None:
        """Print a line for the user (above any prompt being typed at)."""

    def ask(self, prompt: str, secret: bool = False, default: str = "") -> None:
        """
        Prompt the user; the answer comes back through L{answer}. C{default}
        is text already on the line for the user to edit (a message that
        was refused, kept); a pipe ignores it.
        """

    def reconnect(self) -> None:
        """Open a new session with the server; L{connected} follows."""

    def finish(self, status: int) -> None:
        """The conversation is over; exit with C{status}."""


def messageProblem(frame: str) -> str | None:
    """
    Why a frame could not be sent as typed, in plain words, or L{None}.
    """
    if codec.hasControl(frame):
        return _("Messages cannot contain control characters.")
    size = len(frame.encode("utf-8"))
    if size > codec.MAX_CLIENT_FRAME:
        return _("That message is too long by {count} bytes.").format(
            count=size - codec.MAX_CLIENT_FRAME
        )
    return None


def localNow() -> datetime:
    """
    The time here, with its zone: what every shown time is converted to.
    """
    return datetime.now().astimezone()


class ClientMachine:
    """
    One user's conversation with the server, across reconnections.

    @ivar name: the name we log in with (the server's spelling once welcomed).
    @ivar transport: C{"TCP"} or C{"UDP"}.
    @ivar offerGhost: when the name is taken, ask whether to end the user's
        own other session (at a terminal); otherwise, ask for another name
        as version 1 clients did, where C{!ghost} asks for it instead.
    @ivar terminal: a person types the answers: new passwords are asked
        twice, text typed at the operation prompt is offered as a public
        message, and a message refused before sending is put back on the
        line for editing. Piped input keeps the version 1 dialogue, since
        scripts depend on it.
    @ivar clock: the time now, in the zone times are shown in.
    @ivar paint: colours a piece of text by what it is (L{style}).
    """

    def __init__(
        self,
        view: ClientView,
        name: str,
        transport: str,
        offerGhost: bool = False,
        terminal: bool = False,
        clock: Callable[[], datetime] = localNow,
        paint: Painter = plain,
    ) -> None:
        self.view = view
        self.name = name
        self.transport = transport
        self.offerGhost = offerGhost
        self.terminal = terminal
        self.clock = clock
        self.paint = paint
        self.state = CONNECTING
        self.welcomed = False
        self.sessionAlive = False
        self._password: str | None = None  # kept only to log in again
        self._newAccount = False
        self._ghost = False  # logging in with GHOST: the user asked to replace
        self._target = ""
        self._users: list[str] = []  # entries of a C USERS list still arriving
        self._lastError: Err | None = None  # the code of the last frame, if it was C ERR
        self._firstPassword: str | None = None  # a new password, until typed again
        # Messages still to send, in order: (target or None for everyone, text).
        self._outbox: deque[tuple[str | None, str]] = deque()
        self._text: str | None = None  # the message being sent, echoed once sent
        self._awaiting: str | None = None  # "PM"/"DM": the server waits for our D frame
        self._offered: list[str] = []  # text typed at the operation prompt, offered
        self._arrival: deque[str] = deque()  # answers awaited on arrival: WHO, HISTORY
        self._held: list[str] = []  # lines held until arrival is shown
        self._historyLeft = 0  # D HISTORY frames still to come

    # Events from the transport.

    def connected(self) -> None:
        """
        A session with the server is open (again): log in.
        """
        self.sessionAlive = True
        self._users = []
        self._lastError = None
        self._awaiting = None
        if not self.welcomed and self.state != DONE:
            self._logIn()

    def connectionLost(self) -> None:
        self.sessionAlive = False
        if self.state == DONE:
            return
        if self.state == LEAVING:
            self._finish(_("Bye."), 0)
        elif self._lastError is Err.BAD_PASSWORD and not self.welcomed:
            # The server closes the session at the third wrong password.
            self._finish(_("Wrong password, too many times."), 1)
        elif self.state in LOGIN_PROMPTS and not self.welcomed:
            pass  # the login timed out at a prompt: reconnect after the answer
        else:
            self._finish(_("Lost connection to the server."), 1)

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
        handler = {
            PASSWORD: self._gotPassword,
            PASSWORD_AGAIN: self._gotPasswordAgain,
            NAMING: self._gotName,
            REPLACING: self._gotReplace,
            OPERATION: self._gotOperation,
            OFFERING: self._gotOffer,
            PM_TEXT: self._gotPublicText,
            DM_TARGET: self._gotTarget,
            DM_TEXT: self._gotDirectText,
        }.get(self.state)
        if handler is not None:
            handler(text)

    def interrupted(self) -> None:
        """
        Ctrl-C: a question about one operation is cancelled, and the
        operation prompt comes back; anywhere else (the operation prompt
        itself, a login) it leaves, like the end of input.
        """
        if self.state in OPERATION_PROMPTS:
            self._outbox.clear()
            self._offered = []
            self.view.show(self.paint("problem", _("Cancelled.")))
            self._askOperation()
        else:
            self._leave()

    # Logging in.

    def _logIn(self) -> None:
        self.state = LOGGING_IN
        self.view.send(f"C LOGIN {self.name} GHOST" if self._ghost else f"C LOGIN {self.name}")

    def _onHELLO(self, rest: str) -> None:
        pass

    def _onPASSWORD(self, rest: str) -> None:
        self._newAccount = rest == "NEW"
        if self._password is not None:
            # Logging in again after a time-out: the user already answered.
            self.view.send(f"C PASS {self._password}")
            self.state = PASS_SENT
            return
        self.state = PASSWORD
        if self._newAccount:
            self.view.ask(_("Choose a password for {name}: ").format(name=self.name), secret=True)
        else:
            self.view.ask(_("Password: "), secret=True)

    def _gotPassword(self, password: str) -> None:
        if not password:
            self.view.show(_("The password cannot be empty."))
            self._onPASSWORD("NEW" if self._newAccount else "EXISTING")
            return
        if self._newAccount and self.terminal:
            # A typo in a new password would lock the name for good: the
            # person types it twice. (Scripts keep their single answer.)
            self._firstPassword = password
            self.state = PASSWORD_AGAIN
            self.view.ask(_("Type the same password again: "), secret=True)
            return
        self._usePassword(password)

    def _gotPasswordAgain(self, password: str) -> None:
        first, self._firstPassword = self._firstPassword, None
        if password != first:
            self.view.show(self.paint("problem", _("The passwords differ; please choose again.")))
            self._onPASSWORD("NEW")
            return
        self._usePassword(password)

    def _usePassword(self, password: str) -> None:
        self._password = password
        if self.sessionAlive:
            self.view.send(f"C PASS {password}")
            self.state = PASS_SENT
        else:
            self.view.reconnect()

    def _onWELCOME(self, rest: str) -> None:
        parts = rest.split(" ", 2)
        self.name = parts[0]
        self._password = None
        self._ghost = False
        self.welcomed = True
        # The server greets in English, the protocol's language; in another
        # language the client's own greeting says the same.
        greeting = _(GREETING)
        if len(parts) == 3 and greeting == GREETING:
            self.view.show(parts[2])
        elif len(parts) >= 2:
            self.view.show(greeting.format(name=self.name, transport=parts[1]))
        else:
            self.view.show(_("Welcome {name}.").format(name=self.name))
        self._arrive()

    # Arriving: who is here, what was said, what was kept for us.

    def _arrive(self) -> None:
        """
        Ask who is online and what was said lately. The answers come in
        the order asked; direct messages kept for us (C{C INBOX}, sent by
        the server right after C{WELCOME}) and whatever happens meanwhile
        are held until then, so the screen reads in order: who, earlier
        messages, kept messages, now.
        """
        self.state = ARRIVING
        self._arrival = deque(["WHO", "HISTORY"])
        self._held = []
        self._historyLeft = 0
        self.view.send("C WHO")
        self.view.send(f"C HISTORY {HISTORY_ON_ARRIVAL}")

    def _arrived(self, answer: str) -> None:
        """
        One of the arrival's answers is complete; once all are, show what
        was held and ask for an operation.
        """
        if self._arrival and self._arrival[0] == answer:
            self._arrival.popleft()
        if self._arrival or self.state != ARRIVING:
            return
        held, self._held = self._held, []
        for line in held:
            self.view.show(line)
        if self.terminal:
            self.view.show(_("Type HELP (or ?) to see what you can do."))
        self._askOperation()

    def _live(self, line: str) -> None:
        """
        Show what happens now, after the arrival's lines if they are due.
        """
        if self.state == ARRIVING:
            self._held.append(line)
        else:
            self.view.show(line)

    def _stamp(self, text: str, when: datetime | None = None) -> str:
        """
        C{text} after the local time C{HH:MM} (with the date when it was
        not today), so every message and notice says when.
        """
        now = self.clock()
        when = now if when is None else when.astimezone(now.tzinfo)
        shown = when.strftime("%H:%M" if when.date() == now.date() else "%Y-%m-%d %H:%M")
        return f"{self.paint('time', shown)} {text}"

    def _when(self, stamp: str) -> datetime | None:
        """
        A protocol time (RFC 3339, UTC), or L{None} if it is not one.
        """
        try:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo is not None else None

    def _onHISTORY(self, rest: str) -> None:
        count = int(rest) if rest.isdigit() else 0
        self._historyLeft = count
        if count == 0:
            self._arrived("HISTORY")

    def _onINBOX(self, rest: str) -> None:
        count = int(rest) if rest.isdigit() else 0
        if count == 1:
            self._live(self.paint("direct", _("A direct message came while you were away:")))
        elif count:
            text = _("{count} direct messages came while you were away:").format(count=count)
            self._live(self.paint("direct", text))

    def _gotName(self, name: str) -> None:
        if name.strip().casefold() == GHOST_WORD:
            self._replace()
            return
        self.name = name.strip()
        if not self.name:
            self.view.ask(_("Username: "))
            return
        self._password = None
        self._ghost = False
        self._relogIn()

    def _gotReplace(self, answer: str) -> None:
        if answer.strip().casefold() in YES_WORDS:
            self._replace()
        else:
            self.view.show(_("Please enter a different username."))
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

    def _askOperation(self, default: str = "") -> None:
        self.state = OPERATION
        self._ask(_("Operation [PM/DM/EX]: "), default)

    def _ask(self, prompt: str, default: str = "") -> None:
        if default:
            self.view.ask(prompt, default=default)
        else:
            self.view.ask(prompt)

    def _gotOperation(self, text: str) -> None:
        if "\n" in text.strip():
            # A paste of several lines (bracketed paste keeps them together).
            self._offer(text)
            return
        operation = text.strip()
        word, _space, rest = operation.partition(" ")
        rest = rest.strip()
        if word.upper() == "PM" and rest:
            self._queue(None, rest)
        elif word.upper() == "PM":
            self.state = WAIT_ACK
            self._text = None
            self._send("C PM")
        elif word.upper() == "DM" and rest:
            target, _space, message = rest.partition(" ")
            target = unicodedata.normalize("NFKC", target)
            if message.strip():
                self._queue(target, message.strip())
            else:
                # "DM bob": the message is asked for, the list is not shown.
                self.state = WAIT_USERS
                self._target, self._text = target, None
                self._send("C DM")
        elif word.upper() == "DM":
            self.state = WAIT_USERS
            self._target, self._text = "", None
            self._send("C DM")
        elif operation.upper() == "WHO":
            self.state = WAIT_WHO
            self._send("C WHO")
        elif operation.upper() in ("HELP", "?"):
            self.view.show(_(HELP))
            if self.terminal:
                self.view.show(_(HELP_AT_TERMINAL))
            self._askOperation()
        elif operation.casefold() in LEAVE_WORDS or operation.upper() == "EX":
            self._leave()
        elif operation and self.terminal:
            self._offer(operation)
        else:
            if operation:
                self.view.show(
                    _("Unknown operation {operation}: type PM, DM or EX.").format(
                        operation=repr(operation)
                    )
                )
            self._askOperation()

    def _offer(self, text: str) -> None:
        """
        Text that is no operation: at a terminal, offer to send it to
        everyone (one message per line of a paste).
        """
        self._offered = _lines(text)
        if not self._offered:
            self._askOperation()
            return
        self.state = OFFERING
        if len(self._offered) == 1:
            self.view.ask(_("Send that to everyone? [Y/n]: "))
        else:
            self.view.ask(
                _("Send these {count} lines to everyone, one message each? [Y/n]: ").format(
                    count=len(self._offered)
                )
            )

    def _gotOffer(self, answer: str) -> None:
        lines, self._offered = self._offered, []
        if answer.strip().casefold() in NO_WORDS:
            self.view.show(_("Not sent."))
            self._askOperation()
            return
        self._queue(None, *lines)

    def _onACK(self, rest: str) -> None:
        if self.state != WAIT_ACK:
            return
        self._awaiting = "PM"
        if self._text is not None:
            self._sendAwaited()
        else:
            self.state = PM_TEXT
            self.view.ask(_("Message: "))

    def _gotPublicText(self, text: str) -> None:
        self._gotText(None, text)

    def _onUSERS(self, rest: str) -> None:
        # 1.1: a long list comes as "C USERS + …" frames, then "C USERS …".
        head, _space, entries = rest.partition(" ")
        if head == codec.CONTINUED:
            self._users.append(entries)
            return
        self._users.append(rest)
        listed, self._users = " ".join(part for part in self._users if part), []
        if self.state in (ARRIVING, WAIT_WHO):
            self._showWho(listed)
            if self.state == WAIT_WHO:
                self._askOperation()
            else:
                self._arrived("WHO")
            return
        if self.state != WAIT_USERS:
            return
        self._awaiting = "DM"
        if self._target:
            # "DM bob …" typed on one line: no list, no "To:".
            if self._text is not None:
                self._sendAwaited()
            else:
                self.state = DM_TEXT
                self.view.ask(_("Message: "))
            return
        others = []
        for entry in listed.split(" "):
            who, _colon, transport = entry.rpartition(":")
            if who and who.casefold() != self.name.casefold():
                others.append(f"{who}[{transport}]")
        if not others:
            self.view.show(_("Nobody else is online."))
            self._askOperation()
            return
        self.view.show(_("Online: {names}").format(names=", ".join(others)))
        self.state = DM_TARGET
        self.view.ask(_("To: "))

    def _showWho(self, listed: str) -> None:
        people = []
        for entry in listed.split(" "):
            who, _colon, transport = entry.rpartition(":")
            if who and who.casefold() == self.name.casefold():
                you = _("{who}[{transport}] (you)").format(who=who, transport=transport)
                people.append(self.paint("own", you))
            elif who:
                people.append(f"{who}[{transport}]")
        self.view.show(
            self._stamp(
                self.paint("notice", _("Online now ({count}):").format(count=len(people)))
                + " "
                + ", ".join(people)
            )
        )

    def _gotTarget(self, text: str) -> None:
        target = unicodedata.normalize("NFKC", text.strip())
        if not target:
            self.view.show(_("No one to write to: cancelled."))
            self._askOperation()
            return
        if " " in target:
            self.view.show(_("{name} is not online.").format(name=target))
            self._askOperation()
            return
        self._target = target
        self.state = DM_TEXT
        self.view.ask(_("Message: "))

    def _gotDirectText(self, text: str) -> None:
        self._gotText(self._target, text)

    def _gotText(self, target: str | None, text: str) -> None:
        """
        An answer to "Message:": one message, or one per line of a paste.
        """
        if text.strip().upper() == "EX":
            self.view.show(
                self.paint(
                    "problem",
                    _(
                        'EX at "Message:" is not sent: it cancels the message. '
                        "Type EX at the operation prompt to leave."
                    ),
                )
            )
            self._askOperation()
            return
        lines = _lines(text) if "\n" in text else [text]
        if not lines or not lines[0]:
            self.view.show(_("Empty messages are not sent."))
            self._askOperation()
            return
        self._queue(target, *lines)

    def _queue(self, target: str | None, *texts: str) -> None:
        """
        Send C{texts} to C{target} (everyone if L{None}), one message each,
        in order; nothing is sent if one of them could not be.
        """
        for text in texts:
            problem = messageProblem(f"D {target} {text}" if target else f"D {text}")
            if problem is not None:
                self.view.show(self.paint("problem", problem))
                self._keepForEditing(target, "\n".join(texts))
                return
        self._outbox.extend((target, text) for text in texts)
        self._sendNext()

    def _keepForEditing(self, target: str | None, text: str) -> None:
        """
        A message that was not sent: at a terminal it is put back on the
        line to edit (nothing typed is lost); a script goes on as before.
        """
        self._outbox.clear()
        self._text = None
        if not self.terminal:
            self._askOperation()
            return
        self._awaiting = None  # a new C PM or C DM comes first
        self._target = target or ""
        self.state = PM_TEXT if target is None else DM_TEXT
        self._ask(_("Message: "), text)

    def _sendNext(self) -> None:
        """
        Send the next message of the outbox: straight away if the server
        already waits for it (after C{ACK PM} or the list of a C{DM}),
        else after asking for the operation.
        """
        target, text = self._outbox.popleft()
        self._target, self._text = target or "", text
        if self._awaiting == ("PM" if target is None else "DM"):
            self._sendAwaited()
        elif target is None:
            self.state = WAIT_ACK
            self._send("C PM")
        else:
            self.state = WAIT_USERS
            self._send("C DM")

    def _sendAwaited(self) -> None:
        assert self._text is not None
        self._awaiting = None
        self.state = WAIT_OK
        frame = f"D {self._target} {self._text}" if self._target else f"D {self._text}"
        self.view.send(frame)

    def _send(self, frame: str) -> None:
        """
        An operation's first frame: the server forgets any it waited on.
        """
        self._awaiting = None
        self.view.send(frame)

    def _onOK(self, rest: str) -> None:
        kind, _space, detail = rest.partition(" ")
        text, self._text = self._text, None
        me = f"{self.name}[{self.transport}]"
        if kind == "PM":
            count = int(detail) if detail.isdigit() else 0
            result = ngettext("Sent to {count} user.", "Sent to {count} users.", count).format(
                count=count
            )
            if text is None:
                self.view.show(result)
            else:
                you = _("{who}[{transport}] (you)").format(who=self.name, transport=self.transport)
                self.view.show(self._stamp(f"{self.paint('own', you)} : {text} · {result}"))
        elif kind == "DM":
            target, _space, stored = detail.partition(" ")
            if stored == "STORED":
                result = _("Kept for {name}, who is offline.").format(name=target)
            else:
                result = _("Delivered to {name}.").format(name=target)
            if text is None:
                self.view.show(result)
            else:
                mark = self.paint("direct", _("(direct to {name})").format(name=target))
                self.view.show(self._stamp(f"{self.paint('own', me)} {mark} : {text} · {result}"))
        if self.state == WAIT_OK:
            if self._outbox:
                self._sendNext()
            else:
                self._askOperation()

    # Leaving.

    def _leave(self) -> None:
        if self.state in (LEAVING, DONE):
            return
        if not self.sessionAlive:
            self._finish(_("Bye."), 0)
            return
        self.state = LEAVING
        self.view.send("C EX")

    def _onBYE(self, rest: str) -> None:
        if rest == Reason.SHUTDOWN:
            self._finish(_("The server is shutting down."), 0)
        elif rest == Reason.REPLACED:
            self._finish(
                _("You logged in as {name} somewhere else, which ended this session.").format(
                    name=self.name
                ),
                0,
            )
        else:
            self._finish(_("Bye."), 0)

    def _finish(self, text: str, status: int) -> None:
        if self.state != DONE:
            held, self._held = self._held, []
            for line in held:
                self.view.show(line)
            self.state = DONE
            self.sessionAlive = False
            self.view.show(text)
            self.view.finish(status)

    # What others do.

    def _data(self, rest: str) -> None:
        kind, _space, rest = rest.partition(" ")
        if kind in ("HISTORY", "INBOX"):
            stamp, _space, rest = rest.partition(" ")
            when = self._when(stamp)
            parts = rest.split(" ", 2)
            if when is None or len(parts) < 3:
                return
            sender, transport, text = parts
            if kind == "HISTORY":
                self._earlier(when, sender, transport, text)
            else:
                mark = self.paint("direct", _("(direct)"))
                self._live(self._stamp(f"{sender}[{transport}] {mark} : {text}", when))
            return
        parts = rest.split(" ", 2)
        if len(parts) < 3:
            return
        sender, transport, text = parts
        if kind == "PM":
            self._live(self._stamp(f"{sender}[{transport}] : {text}"))
        elif kind == "DM":
            mark = self.paint("direct", _("(direct)"))
            self._live(self._stamp(f"{sender}[{transport}] {mark} : {text}"))

    def _earlier(self, when: datetime, sender: str, transport: str, text: str) -> None:
        """
        A public message said before we came, marked as such.
        """
        earlier = self.paint("earlier", _("(earlier)"))
        self.view.show(self._stamp(f"{earlier} {sender}[{transport}] : {text}", when))
        if self._historyLeft > 0:
            self._historyLeft -= 1
            if self._historyLeft == 0:
                self._arrived("HISTORY")

    def _onJOIN(self, rest: str) -> None:
        name, _space, transport = rest.partition(" ")
        notice = _("{who} has joined the chat.").format(who=f"{name} [{transport}]")
        self._live(self._stamp(self.paint("notice", notice)))

    def _onLEAVE(self, rest: str) -> None:
        parts = rest.split(" ")
        if len(parts) < 2:
            return
        reason = parts[2] if len(parts) >= 3 else Reason.EXIT
        notice = _(DEPARTURES.get(reason, "{who} has left the chat.")).format(
            who=f"{parts[0]} [{parts[1]}]"
        )
        self._live(self._stamp(self.paint("notice", notice)))

    # Errors, in plain words.

    def _onERR(self, rest: str) -> None:
        word, _space, text = rest.partition(" ")
        try:
            code: Err | None = Err(word)
        except ValueError:
            code = None  # a code from a later version: explained by its text
        self._lastError = code
        if code is Err.NAME_TAKEN and self.offerGhost and not self._ghost:
            # Perhaps by the user's own other session (a vanished UDP
            # client, another terminal): offer to end it.
            self.view.show(_("The username {name} is already in use.").format(name=self.name))
            self.state = REPLACING
            self.view.ask(_("If that is you, end your other session and log in here? [y/N]: "))
        elif code is Err.NAME_TAKEN:
            self._ghost = False
            self.view.show(_("That username is already taken, please enter a different one."))
            self._askName()
        elif code is Err.BAD_NAME:
            self.view.show(_("That username cannot be used: {why}.").format(why=text))
            self._askName()
        elif code is Err.BAD_PASSWORD:
            self._badPassword(text)
        elif code is Err.FULL:
            self._finish(_("The server is full; please try again later."), 1)
        elif code is Err.STATE and self.state in LOGIN_PROMPTS and not self.welcomed:
            # At a prompt nothing we sent is unanswered, so this answers no
            # request: it is the login deadline, and the server closes the
            # session; we log in again on a new one after the user answers.
            self.sessionAlive = False
        elif self.state == ARRIVING:
            # A server that cannot answer WHO or HISTORY (version 1 knows
            # no HISTORY): arrive without it.
            if self._arrival and self._arrival[0] == "WHO":
                self.view.show(_explain(word, text))
            self._arrived(self._arrival[0] if self._arrival else "")
        elif code is Err.NO_SUCH_USER:
            self.view.show(_("{name} is not online.").format(name=self._target))
            self._notSent()
        elif code is Err.UNAVAILABLE and not self.welcomed:
            # Starting the login again at once would only hit the same
            # locked or unreadable database, as fast as the server answers.
            self._finish(_("The server cannot log you in right now; please try again later."), 1)
        elif code is Err.RATE and not self.welcomed:
            self._finish(_("Too many attempts to log in from here; try again in a minute."), 1)
        elif self.state in (LOGGING_IN, PASS_SENT):
            # Something went wrong with the login itself (the server could
            # not check the password, or could not read it): start again.
            self.view.show(_explain(word, text))
            self._password = None
            self._logIn()
        elif self.state in WAITING:
            self.view.show(_explain(word, text))
            if code in (Err.RATE, Err.TOO_LONG, Err.BAD_TEXT, Err.BAD_FRAME) and self._text:
                self._keepForEditing(
                    self._target or None,
                    "\n".join([self._text, *(text for _to, text in self._outbox)]),
                )
            else:
                self._notSent()
        else:
            self.view.show(_explain(word, text))

    def _notSent(self) -> None:
        """
        The message being sent was refused: say what else of a paste is
        not sent either, and ask for the next operation.
        """
        left = len(self._outbox)
        self._outbox.clear()
        self._text = None
        if left:
            self.view.show(
                ngettext(
                    "{count} more line was not sent.", "{count} more lines were not sent.", left
                ).format(count=left)
            )
        self._askOperation()

    def _askName(self) -> None:
        self.state = NAMING
        self._password = None
        self.view.ask(_("Username: "))

    def _badPassword(self, text: str) -> None:
        # For an existing account BAD_PASSWORD means a wrong password; for a
        # new one, a password the server refused, which its text explains.
        # The third wrong one is told by the server closing the session
        # (see connectionLost), not by its text.
        self._password = None
        self.view.show(f"{text.capitalize()}." if self._newAccount else _("Wrong password."))
        # The protocol starts a login again from LOGIN (with GHOST if asked).
        self._logIn()


def _lines(text: str) -> list[str]:
    """
    The lines of a paste that say something, in order.
    """
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def _explain(code: str, text: str) -> str:
    explained: dict[str, str] = {
        Err.RATE: _("You are sending too fast; that was not sent. Wait a moment and try again."),
        Err.TOO_LONG: _("That message is too long; it was not sent."),
        Err.BAD_TEXT: _("Empty messages are not sent."),
        Err.BAD_FRAME: _("The server could not read that: {why}.").format(why=text),
        Err.INBOX_FULL: _("That user's kept messages are full; it was not sent."),
    }
    return explained.get(code, _("The server said: {why}.").format(why=text or code))
