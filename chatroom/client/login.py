"""
Logging in: the name, the password (typed twice when new, at a terminal),
another name when it is taken, or ending the user's own other session
(1.1 C{GHOST}).

The password is kept in memory only: until C{WELCOME} (to log in again
after the server's login deadline), and for the whole session when the
client comes back after a lost one (L{chatroom.client.away}).
"""

from __future__ import annotations

from chatroom.client.conversation import (
    LOGGING_IN,
    LOGIN_PROMPTS,
    NAMING,
    PASS_SENT,
    PASSWORD,
    PASSWORD_AGAIN,
    REPLACING,
    Conversation,
)
from chatroom.client.text import N_, _
from chatroom.codec import Err

#: The answer to "Username:" (any case) that logs in with the same name
#: again, ending the user's own other session (1.1 GHOST). No name can
#: start with "!", so a script's answer is never mistaken for one.
GHOST_WORD = "!ghost"

#: Answers to the "end the other session?" question that mean yes.
YES_WORDS = frozenset({"y", "yes", "e", "evet"})

#: The server's greeting (C{C WELCOME}'s text), translated when the user's
#: language is not English.
GREETING = N_("Welcome {name}, you are connected via {transport}.")


class LoggingIn(Conversation):
    """
    The login's part of the conversation.
    """

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
            # Logging in again (after a time-out, or coming back): the user
            # already answered.
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
        if not self.comesBack:
            self._password = None  # held only to come back after a lost session
        self._ghost = False
        self.welcomed = True
        # The server greets in English, the protocol's language; in another
        # language the client's own greeting says the same.
        greeting = _(GREETING)
        if self.away:
            self._cameBack()
        elif len(parts) == 3 and greeting == GREETING:
            self.view.show(parts[2])
        elif len(parts) >= 2:
            self.view.show(greeting.format(name=self.name, transport=parts[1]))
        else:
            self.view.show(_("Welcome {name}.").format(name=self.name))
        self._arrive()

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

    def _askName(self) -> None:
        self.state = NAMING
        self._password = None
        self.view.ask(_("Username: "))

    def _loginRefused(self, code: Err | None, text: str, explained: str) -> bool:
        """
        A C{C ERR} that is about the login: handle it and say so (C{True}).
        """
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
        elif code is Err.UNAVAILABLE and not self.welcomed:
            # Starting the login again at once would only hit the same
            # locked or unreadable database, as fast as the server answers.
            self._finish(_("The server cannot log you in right now; please try again later."), 1)
        elif code is Err.RATE and not self.welcomed:
            self._finish(_("Too many attempts to log in from here; try again in a minute."), 1)
        elif self.state in (LOGGING_IN, PASS_SENT):
            # Something went wrong with the login itself (the server could
            # not check the password, or could not read it): start again.
            self.view.show(explained)
            self._password = None
            self._logIn()
        else:
            return False
        return True

    def _insecure(self) -> None:
        """
        C{ERR INSECURE}: the server takes no password over this unencrypted
        connection (its C{--plaintext-logins}). Nothing was sent but the name.
        """
        self._finish(
            _("This server takes passwords only over an encrypted connection: try --tls."),
            1,
        )

    def _badPassword(self, text: str) -> None:
        # For an existing account BAD_PASSWORD means a wrong password; for a
        # new one, a password the server refused, which its text explains.
        # The third wrong one is told by the server closing the session
        # (see connectionLost), not by its text.
        self._password = None
        if self._newAccount:
            self.view.show(f"{text.capitalize()}.")
        else:
            self.view.show(_("Wrong password."))
        # The protocol starts a login again from LOGIN (with GHOST if asked).
        self._logIn()
