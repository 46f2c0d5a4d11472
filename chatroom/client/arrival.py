"""
Arriving in the room: who is here, what was said, what was kept for us.

The same flow serves the first arrival and every return after a lost
session (L{chatroom.client.away}): after C{WELCOME} the client asks
C{C WHO} and C{C HISTORY n}, and holds the prompt and everything else that
arrives until both are answered, so the screen reads in order: who is
online, earlier messages, direct messages kept for us, then now. On a
return only the history the user missed is shown (L{catchup.missed}).
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

from chatroom.client.catchup import Said, alsoInHistory, missed, remember
from chatroom.client.conversation import ARRIVING, Conversation
from chatroom.client.text import _

#: How many earlier public messages are shown on arrival: a screenful.
HISTORY_ON_ARRIVAL = 20

#: How many are asked for on a return, to find where the user left (the
#: server sends at most its own history size).
MISSED_LIMIT = 100


class Arriving(Conversation):
    """
    The arrival's part of the conversation.
    """

    def _arrive(self) -> None:
        """
        Ask who is online and what was said lately. The answers come in
        the order asked; direct messages kept for us (C{C INBOX}, sent by
        the server right after C{WELCOME}) and whatever happens meanwhile
        are held until then.
        """
        self.state = ARRIVING
        self._arrival = deque(["WHO", "HISTORY"])
        self._held = []
        self._historyLeft = 0
        self._history = []
        self.view.send("C WHO")
        self.view.send(f"C HISTORY {MISSED_LIMIT if self.away else HISTORY_ON_ARRIVAL}")

    def _arrived(self, answer: str) -> None:
        """
        One of the arrival's answers is complete; once all are, show what
        was held and go on: to the operation prompt, or back to the prompt
        that was showing when the session was lost.
        """
        if self._arrival and self._arrival[0] == answer:
            self._arrival.popleft()
        if self._arrival or self.state != ARRIVING:
            return
        self._release()
        if self.away:
            self._resume()
            return
        if self.terminal:
            self.view.show(_("Type HELP (or ?) to see what you can do."))
        self._askOperation()

    def _arrivalRefused(self, explained: str) -> None:
        """
        The server could not answer C{WHO} or C{HISTORY} (version 1 knows
        no C{HISTORY}): arrive without it.
        """
        if self._arrival and self._arrival[0] == "WHO":
            self.view.show(explained)
            self._arrived("WHO")
        else:
            self._historyDone(known=False)

    def _live(self, line: str, said: Said | None = None) -> None:
        """
        Show what happens now, after the arrival's lines if they are due.
        C{said} is the public message C{line} shows, remembered as seen.
        """
        if self.state == ARRIVING:
            self._held.append((line, said))
        else:
            self._show(line, said)

    def _show(self, line: str, said: Said | None) -> None:
        self.view.show(line)
        if said is not None:
            self._seen = remember(self._seen, said)

    def _release(self) -> None:
        held, self._held = self._held, []
        for line, said in held:
            self._show(line, said)

    def _showWho(self, listed: str) -> None:
        people = []
        staff = False
        for entry in listed.split(" "):
            who, _colon, transport = entry.rpartition(":")
            # 1.2: "@" marks moderators and admins; it is kept, as their mark.
            staff = staff or who.startswith("@")
            if who and who.removeprefix("@").casefold() == self.name.casefold():
                you = _("{who}[{transport}] (you)").format(who=who, transport=transport)
                people.append(self.paint("own", you))
            elif who:
                people.append(f"{who}[{transport}]")
        line = (
            self.paint("notice", _("Online now ({count}):").format(count=len(people)))
            + " "
            + ", ".join(people)
        )
        if staff:
            line += " " + self.paint("notice", _("(@: moderator or admin)"))
        self.view.show(self._stamp(line))

    # The history: C HISTORY <count>, then <count> D HISTORY frames.

    def _onHISTORY(self, rest: str) -> None:
        self._history = []
        self._historyLeft = int(rest) if rest.isdigit() else 0
        if self._historyLeft == 0:
            self._historyDone()

    def _historyEntry(self, when: datetime, sender: str, transport: str, text: str) -> None:
        if self._historyLeft <= 0:
            return  # not asked for (or after a lost session): not ours to show
        self._history.append(Said(when.timestamp(), sender, transport, text))
        self._historyLeft -= 1
        if self._historyLeft == 0:
            self._historyDone()

    def _historyDone(self, known: bool = True) -> None:
        """
        The history is complete (or, C{known} false, the server keeps
        none): show it, or on a return only what was missed.
        """
        history, self._history = self._history, []
        # Public messages relayed while it was asked for may be in it too.
        relayed = [said for _line, said in self._held if said is not None]
        repeated = alsoInHistory(history, relayed)
        if repeated:
            dropped = set(map(id, relayed[:repeated]))
            self._held = [(line, said) for line, said in self._held if id(said) not in dropped]
        if not self.away:
            for said in history:
                self._earlier(said)
        elif not known:
            self._notice(
                _("This server keeps no history: what was said while you were away is unknown.")
            )
        elif gap := missed(history, self._seen, self._lostAt):
            self._notice(_("Said while you were away:"))
            for said in gap:
                self._earlier(said)
        else:
            self._notice(_("Nothing was said while you were away."))
        self._arrived("HISTORY")

    def _earlier(self, said: Said) -> None:
        """
        A public message said before now, marked as such.
        """
        earlier = self.paint("earlier", _("(earlier)"))
        when = datetime.fromtimestamp(said.when, UTC)
        line = f"{earlier} {said.sender}[{said.transport}] : {said.text}"
        self._show(self._stamp(line, when), said)

    def _onINBOX(self, rest: str) -> None:
        count = int(rest) if rest.isdigit() else 0
        if count == 1:
            self._live(self.paint("direct", _("A direct message came while you were away:")))
        elif count:
            text = _("{count} direct messages came while you were away:").format(count=count)
            self._live(self.paint("direct", text))
