"""
What the chat client does, as a state machine without any I/O.

The machine reads server frames and the user's answers to prompts, and
says what to send, what to show and what to ask next, through a
L{ClientView}. Terminals, pipes, TCP and UDP are somebody else's business,
so every path through a conversation can be tested by feeding it lines.

This module routes events and runs the operations; logging in
(L{chatroom.client.login}), arriving (L{chatroom.client.arrival}), sending
(L{chatroom.client.outbox}), what others do (L{chatroom.client.hearing}),
coming back after a lost session (L{chatroom.client.away}), moderation
(L{chatroom.client.moderation}) and changing the password
(L{chatroom.client.passwd}) each have a module of their own.
"""

from __future__ import annotations

import unicodedata

from chatroom import codec
from chatroom.client.arrival import Arriving
from chatroom.client.away import ComingBack
from chatroom.client.conversation import (
    ARRIVING,
    DM_TARGET,
    DM_TEXT,
    DONE,
    LEAVE_WORDS,
    LEAVING,
    LOGIN_PROMPTS,
    MODERATING,
    NAMING,
    OFFERING,
    OPERATION,
    OPERATION_PROMPTS,
    PASSWD_NEW,
    PASSWD_OLD,
    PASSWD_REPEAT,
    PASSWORD,
    PASSWORD_AGAIN,
    PM_TEXT,
    REPLACING,
    WAIT_ACK,
    WAIT_PASSWD,
    WAIT_USERS,
    WAIT_WHO,
    WAITING,
    ClientView,
    localNow,
)
from chatroom.client.hearing import Hearing
from chatroom.client.login import LoggingIn
from chatroom.client.moderation import STAFF_HELP, VERBS, Moderating
from chatroom.client.outbox import Sending, messageProblem
from chatroom.client.passwd import ChangingPassword
from chatroom.client.text import N_, _
from chatroom.codec import Err, Reason

__all__ = [
    "LEAVE_WORDS",
    "OPERATION",
    "PM_TEXT",
    "ClientMachine",
    "ClientView",
    "localNow",
    "messageProblem",
]

HELP = N_("""\
At "Operation [PM/DM/EX]:" you can type
  PM <text>          send <text> to everyone (PM alone asks for the text)
  DM <name> <text>   send <text> to <name> only (DM alone shows who is online and asks)
  WHO                see who is online
  PASSWD             change your password
  HELP or ?          this help
  EX                 leave (so do exit, quit, goodbye, görüşürüz, !q and Ctrl-D)""")

HELP_AT_TERMINAL = N_("""\
Anything else you type is offered as a public message: Enter sends it, n keeps it back
(a single word or a /command is kept back unless you answer y).
A paste of several lines sends one message per line, in order.
Ctrl-C cancels the question being asked; at "Operation" it clears what you typed,
or leaves if there is nothing to clear.""")


class ClientMachine(
    ComingBack, Arriving, Hearing, Moderating, ChangingPassword, Sending, LoggingIn
):
    """
    One user's conversation with the server, across reconnections (see
    L{chatroom.client.conversation.Conversation} for what it holds).
    """

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
        elif self._lastError is Err.BAD_PASSWORD:
            # The server closes the session at the third wrong password (at
            # login, or when changing it): not a loss to come back from.
            self._finish(_("Wrong password, too many times."), 1)
        elif self.state in LOGIN_PROMPTS and not self.welcomed:
            pass  # the login timed out at a prompt: reconnect after the answer
        elif self.comesBack and (self.welcomed or self.away):
            self._goAway(_("Lost connection to the server."))
        else:
            self._finish(_("Lost connection to the server."), 1)

    def frameReceived(self, line: str) -> None:
        self._lastError = None
        kind, _space, rest = line.partition(" ")
        if kind == "D":
            self._data(rest)
        elif kind == "C":
            verb, _space, rest = rest.partition(" ")
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
            PASSWORD_AGAIN: self._gotPasswordAgain,
            NAMING: self._gotName,
            REPLACING: self._gotReplace,
            OPERATION: self._gotOperation,
            OFFERING: self._gotOffer,
            PM_TEXT: self._gotPublicText,
            DM_TARGET: self._gotTarget,
            DM_TEXT: self._gotDirectText,
            PASSWD_OLD: self._gotOldPassword,
            PASSWD_NEW: self._gotNewPassword,
            PASSWD_REPEAT: self._gotNewPasswordAgain,
        }.get(self.state)
        if handler is not None:
            handler(text)

    def interrupted(self, typed: bool = False) -> None:
        """
        Ctrl-C: a question about one operation is cancelled, and the
        operation prompt comes back; at the operation prompt, a half-typed
        line (C{typed}) is cleared; anywhere else (an empty operation
        prompt, a login) it leaves, like the end of input.
        """
        if self.away:
            self._interruptedWhileAway(typed)
        elif self.state == OPERATION and typed:
            self._askOperation()  # the line is cleared: an empty prompt again
        elif self._cancelPasswd():
            pass
        elif self.state in OPERATION_PROMPTS:
            self._outbox.clear()
            self._offered = []
            self.view.show(self.paint("problem", _("Cancelled.")))
            self._askOperation()
        else:
            self._leave()

    # Operations.

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
            # "@bob" copied from the list of who is online is bob.
            target = unicodedata.normalize("NFKC", target).removeprefix("@")
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
        elif word.upper() in VERBS:
            self._moderate(word.upper(), rest)
        elif operation.upper() == "PASSWD":
            self._changePassword()
        elif operation.upper() in ("HELP", "?"):
            self.view.show(_(HELP))
            if self.staff:
                self.view.show(_(STAFF_HELP))
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
                    _("Unknown operation {operation!r}: type PM, DM or EX.").format(
                        operation=operation
                    )
                )
            self._askOperation()

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
        self._staffNoted(listed)
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
            if who and who.removeprefix("@").casefold() != self.name.casefold():
                others.append(f"{who}[{transport}]")
        if not others:
            self.view.show(_("Nobody else is online."))
            self._askOperation()
            return
        self.view.show(_("Online: {people}").format(people=", ".join(others)))
        self.state = DM_TARGET
        self.view.ask(_("To: "))

    def _gotTarget(self, text: str) -> None:
        target = unicodedata.normalize("NFKC", text.strip()).removeprefix("@")
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

    # Frames that several jobs share, each handed to the job it concerns.

    def _onPASSWORD(self, rest: str) -> None:
        if self.welcomed and self.state == WAIT_PASSWD:
            self._passwordAsked(rest)
        else:
            LoggingIn._onPASSWORD(self, rest)

    def _onOK(self, rest: str) -> None:
        kind = rest.partition(" ")[0]
        if kind == "PASSWD":
            self._passwordChanged()
        elif kind in VERBS:
            self._moderated()
        else:
            Sending._onOK(self, rest)

    def _data(self, rest: str) -> None:
        kind, _space, entry = rest.partition(" ")
        if kind == "BAN":
            self._banEntry(entry)
        else:
            Hearing._data(self, rest)

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
        coming = self.comesBack and self.state != LEAVING and (self.welcomed or self.away)
        if rest == Reason.SHUTDOWN and coming:
            self._goAway(_("The server is shutting down."))
        elif rest == Reason.SHUTDOWN:
            self._finish(_("The server is shutting down."), 0)
        elif rest in ("KICKED", "BANNED"):
            self._removed(rest)
        elif rest == Reason.REPLACED:
            self._finish(
                _("You logged in as {name} somewhere else, which ended this session.").format(
                    name=self.name
                ),
                0,
            )
        else:
            self._finish(_("Bye."), 0)

    # Errors, in plain words.

    def _onERR(self, rest: str) -> None:
        word, _space, text = rest.partition(" ")
        try:
            code: Err | None = Err(word)
        except ValueError:
            code = None  # a code from a later version: explained by its text
        self._lastError = code
        explained = self._explainModeration(word, text) or _explain(word, text)
        if word == "BANNED" and not self.welcomed:
            self._banned(text)  # at login, or coming back: the name is not let in
        elif code is Err.INSECURE and not self.welcomed:
            self._insecure()  # at login, or coming back: trying again cannot help
        elif self.away and not self.welcomed:
            self._refusedWhileAway(code, text)
        elif self.state in (WAIT_PASSWD, PASSWD_OLD, PASSWD_NEW, PASSWD_REPEAT):
            self._passwdRefused(word, text, explained)
        elif self.state in MODERATING:
            self._moderationRefused(word, explained)
        elif self._loginRefused(code, text, explained):
            pass
        elif self.state == ARRIVING:
            self._arrivalRefused(explained)
        elif code is Err.NO_SUCH_USER:
            self.view.show(_("{name} is not online.").format(name=self._target))
            self._notSent()
        elif self.state in WAITING:
            self.view.show(explained)
            # A message slowed down is kept to send again once allowed.
            if word in (Err.RATE, Err.TOO_LONG, Err.BAD_TEXT, Err.BAD_FRAME, "SLOW") and self._text:
                self._keepForEditing(
                    self._target or None,
                    "\n".join([self._text, *(text for _to, text in self._outbox)]),
                )
            else:
                self._notSent()
        else:
            self.view.show(explained)


def _explain(code: str, text: str) -> str:
    explained: dict[str, str] = {
        Err.RATE: _("You are sending too fast; that was not sent. Wait a moment and try again."),
        Err.TOO_LONG: _("That message is too long; it was not sent."),
        Err.BAD_TEXT: _("Empty messages are not sent."),
        Err.BAD_FRAME: _("The server could not read that: {why}.").format(why=text),
        Err.INBOX_FULL: _("That user's kept messages are full; it was not sent."),
    }
    return explained.get(code, _("The server said: {why}.").format(why=text or code))
