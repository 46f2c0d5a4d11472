"""
Changing one's own password once logged in (protocol 1.2): C{PASSWD} at
the operation prompt sends C{C PASSWD}; the server asks for the current
password (C{C PASSWORD EXISTING}), then for the new one
(C{C PASSWORD NEW}), and says C{C OK PASSWD}.

Every password is asked without echo, and the new one twice, at a
terminal or not: a typo there would lock the account as surely as at
registration, and no script depended on this dialogue before. The new
password is held in memory only until the server confirms it; a client
that comes back after a lost session then logs in with it.
"""

from __future__ import annotations

from chatroom.client.conversation import (
    PASSWD_NEW,
    PASSWD_OLD,
    PASSWD_PROMPTS,
    PASSWD_REPEAT,
    WAIT_PASSWD,
    Conversation,
)
from chatroom.client.text import _


class ChangingPassword(Conversation):
    """
    The password change's part of the conversation.
    """

    def _changePassword(self) -> None:
        self._newPassword = None
        self._awaiting = None  # the server forgets any message it waited for
        self.state = WAIT_PASSWD
        self.view.send("C PASSWD")

    def _passwordAsked(self, rest: str) -> None:
        """
        C{C PASSWORD EXISTING} or C{C PASSWORD NEW} while changing it.
        """
        if rest == "EXISTING":
            self.state = PASSWD_OLD
            self.view.ask(_("Current password: "), secret=True)
        else:
            self._askNewPassword()

    def _askNewPassword(self) -> None:
        self._newPassword = None
        self.state = PASSWD_NEW
        self.view.ask(_("New password: "), secret=True)

    def _gotOldPassword(self, password: str) -> None:
        if not password:
            self.view.show(_("The password cannot be empty."))
            self.view.ask(_("Current password: "), secret=True)
            return
        self.state = WAIT_PASSWD
        self.view.send(f"C PASS {password}")

    def _gotNewPassword(self, password: str) -> None:
        if not password:
            self.view.show(_("The password cannot be empty."))
            self.view.ask(_("New password: "), secret=True)
            return
        self._newPassword = password
        self.state = PASSWD_REPEAT
        self.view.ask(_("Type the same password again: "), secret=True)

    def _gotNewPasswordAgain(self, password: str) -> None:
        if password != self._newPassword:
            self.view.show(self.paint("problem", _("The passwords differ; please choose again.")))
            self._askNewPassword()
            return
        self.state = WAIT_PASSWD
        self.view.send(f"C PASS {password}")

    def _passwordChanged(self) -> None:
        """
        C{C OK PASSWD}.
        """
        if self.state != WAIT_PASSWD:
            return
        new, self._newPassword = self._newPassword, None
        if self.comesBack and new is not None:
            self._password = new  # coming back after a lost session logs in with it
        self.view.show(_("Your password is changed; use the new one from now on."))
        self._askOperation()

    def _passwdRefused(self, code: str, text: str, explained: str) -> None:
        """
        An error while changing the password: nothing was changed.
        """
        if code == "BAD_PASSWORD" and self._newPassword is None:
            told = _("Wrong password: your password was not changed.")
        elif code == "BAD_PASSWORD":
            told = _("The new password was refused ({why}): your password was not changed.").format(
                why=text
            )
        else:
            told = explained
        self._newPassword = None
        self.view.show(self.paint("problem", told))
        self._askOperation()

    def _cancelPasswd(self) -> bool:
        """
        Ctrl-C at one of its prompts: cancelled (C{True}), and nothing sent;
        the server's half-done change waits harmlessly for a C{C PASS} that
        never comes, and a new C{PASSWD} starts it again.
        """
        if self.state not in PASSWD_PROMPTS:
            return False
        self._newPassword = None
        self.view.show(self.paint("problem", _("Cancelled: your password was not changed.")))
        self._askOperation()
        return True
