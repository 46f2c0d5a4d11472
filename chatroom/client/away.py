"""
Coming back after a lost session (a closed connection, a silent UDP server,
C{C BYE SHUTDOWN}), when the client L{Conversation.comesBack}.

The view waits and reconnects (L{chatroom.client.reconnect}); the machine
logs in again with C{GHOST} (our own lost session may still hold the name)
and the password held in memory, then arrives as on the first login, with
only the history the user missed (L{chatroom.client.arrival}). Meanwhile
the prompt that was showing stays; what is typed there is refused, never
sent late to a session that may not expect it.
"""

from __future__ import annotations

from chatroom.client.conversation import (
    ARRIVING,
    DM_TARGET,
    DM_TEXT,
    LEAVE_WORDS,
    MODERATING,
    OFFERING,
    OPERATION,
    OPERATION_PROMPTS,
    PM_TEXT,
    WAIT_ACK,
    WAIT_OK,
    WAIT_USERS,
    WAITING,
    Conversation,
)
from chatroom.client.text import _
from chatroom.codec import Err


class ComingBack(Conversation):
    """
    The part of the conversation between a lost session and the next.
    """

    def _goAway(self, why: str) -> None:
        """
        The session is lost (or an attempt to come back failed): settle
        what was under way, and let the view try again later.
        """
        self.sessionAlive = False
        self.welcomed = False
        if self.state == ARRIVING:
            # What the arrival held is real: show it now.
            self._arrival.clear()
            self._historyLeft = 0
            self._history = []
            self._release()
            if self.away:
                self.state = self._resumeAt
            else:
                self._askOperation()  # no prompt was showing yet
        if not self.away:
            self.away = True
            self._lostAt = self._now()
            self._settle()
            self._resumeAt = self.state
        self.view.away(why)

    def _settle(self) -> None:
        """
        An operation the lost session was answering: say what became of its
        message, and leave a prompt showing.
        """
        if self.state in (WAIT_ACK, WAIT_USERS) and self._text is not None:
            # The message itself was never sent: keep it.
            self.view.show(self.paint("problem", _("Not connected: that message was not sent.")))
            texts = [self._text, *(text for _to, text in self._outbox)]
            self._keepForEditing(self._target or None, "\n".join(texts))
        elif self.state == WAIT_OK:
            self.view.show(
                self.paint("problem", _("Your last message may not have been delivered."))
            )
            self._notSent()
        elif self.state in MODERATING:
            # A moderation verb, or a password change half done: nothing was
            # changed unless the room's notice (or C OK PASSWD) said so.
            self._newPassword = None
            self._bans, self._bansLeft = [], 0
            self.view.show(self.paint("problem", _("Not connected: that was not done.")))
            self._askOperation()
        elif self.state in WAITING:
            self._askOperation()

    def _cameBack(self) -> None:
        """
        Welcomed again: say so; the arrival that follows shows what was missed.
        """
        away = max(0.0, self._now() - self._lostAt)
        self.view.back()
        self._notice(_("Back in the room after {seconds:.0f} s.").format(seconds=away))

    def _resume(self) -> None:
        """
        Arrived again: back at the prompt that was showing (and still is).
        The server waits for nothing, so a message typed there starts its
        operation anew (L{chatroom.client.outbox}).
        """
        self.away = False
        self.state = self._resumeAt

    def _answeredWhileAway(self, text: str) -> None:
        if self._resumeAt == OPERATION and (
            text.strip().casefold() in LEAVE_WORDS or text.strip().upper() == "EX"
        ):
            self._leave()
            return
        if text.strip():
            self.view.show(
                self.paint(
                    "problem",
                    _("Not back in the room yet, so that was not sent (Up brings it back)."),
                )
            )
        self.view.ask(self._promptWhileAway())

    def _interruptedWhileAway(self, typed: bool = False) -> None:
        """
        Ctrl-C: cancels a question about one operation, as when connected;
        at the operation prompt it clears a half-typed line, or leaves.
        """
        if self._resumeAt == OPERATION and typed:
            self.view.ask(self._promptWhileAway())
        elif self._resumeAt in OPERATION_PROMPTS:
            self._outbox.clear()
            self._offered = []
            self._resumeAt = OPERATION
            self.view.show(self.paint("problem", _("Cancelled.")))
            self.view.ask(self._promptWhileAway())
        else:
            self._leave()

    def _promptWhileAway(self) -> str:
        if self._resumeAt in (PM_TEXT, DM_TEXT):
            return _("Message: ")
        if self._resumeAt == DM_TARGET:
            return _("To: ")
        if self._resumeAt == OFFERING and len(self._offered) > 1:
            return _("Send these {count} lines to everyone, one message each? [Y/n]: ").format(
                count=len(self._offered)
            )
        if self._resumeAt == OFFERING and not self._offerYes:
            return _("Send that to everyone? [y/N]: ")
        if self._resumeAt == OFFERING:
            return _("Send that to everyone? [Y/n]: ")
        return _("Operation [PM/DM/EX]: ")

    def _refusedWhileAway(self, code: Err | None, text: str) -> None:
        if code in (Err.BAD_PASSWORD, Err.BAD_NAME):
            self._finish(_("Could not log in again: {why}.").format(why=text), 1)
        else:  # NAME_TAKEN (our old session lingers), FULL, RATE, UNAVAILABLE...
            self._goAway(text or str(code))
