"""
Sending messages: one typed, one per line of a paste, or text offered to
everyone, each confirmed and echoed with its result.

Messages wait in an outbox and go one operation at a time (C{C PM} then,
on C{C ACK PM}, C{D text}; C{C DM} then, on C{C USERS}, C{D name text}):
nothing is pipelined ahead of the server's answer, so a refused C{C PM}
can never turn the next C{D} into an error, and a refused message stops
the rest of a paste instead of sending it out of context.
"""

from __future__ import annotations

import re

from chatroom import codec
from chatroom.client.catchup import Said, remember
from chatroom.client.conversation import (
    DM_TEXT,
    OFFERING,
    PM_TEXT,
    WAIT_ACK,
    WAIT_OK,
    WAIT_USERS,
    Conversation,
)
from chatroom.client.login import YES_WORDS
from chatroom.client.text import _, ngettext

#: Answers to "send that to everyone?" that mean no (Enter means yes,
#: unless the text looks like a command).
NO_WORDS = frozenset({"n", "no", "h", "hayır", "hayir"})

#: Text that looks like a command typed at the wrong place: one word
#: (C{clear}, C{ls}, C{quit!}), words with options (C{ls -la},
#: C{git log --oneline}), or anything after the sign other chat programs
#: and shells start commands with (C{/quit}, C{!help}, C{\\q}), and
#: vi's C{:q} (not a smiley like C{:D}). Offered as a public message,
#: Enter keeps it back.
COMMANDISH = re.compile(
    r"[/\\!]\w.*|:(q|wq|x|w)!?|[\w.-]+[!?]?|[\w.-]+( +[\w.-]+)*( +--?[\w=.-]+)+", re.DOTALL
)


def looksLikeCommand(text: str) -> bool:
    """
    Whether C{text}, typed at the operation prompt, looks like a command
    rather than something said to the room.
    """
    return COMMANDISH.fullmatch(text.strip()) is not None


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


def lines(text: str) -> list[str]:
    """
    The lines of a paste that say something, in order.
    """
    return [line.rstrip() for line in text.splitlines() if line.strip()]


class Sending(Conversation):
    """
    The outbox's part of the conversation.
    """

    def _offer(self, text: str) -> None:
        """
        Text that is no operation: at a terminal, offer to send it to
        everyone (one message per line of a paste).
        """
        self._offered = lines(text)
        if not self._offered:
            self._askOperation()
            return
        self.state = OFFERING
        # A stray command is not broadcast by pressing Enter twice.
        self._offerYes = len(self._offered) > 1 or not looksLikeCommand(self._offered[0])
        if len(self._offered) == 1 and not self._offerYes:
            self.view.ask(_("Send that to everyone? [y/N]: "))
        elif len(self._offered) == 1:
            self.view.ask(_("Send that to everyone? [Y/n]: "))
        else:
            self.view.ask(
                _("Send these {count} lines to everyone, one message each? [Y/n]: ").format(
                    count=len(self._offered)
                )
            )

    def _gotOffer(self, answer: str) -> None:
        offered, self._offered = self._offered, []
        said = answer.strip().casefold()
        if said in NO_WORDS or (not self._offerYes and said not in YES_WORDS):
            self.view.show(_("Not sent."))
            self._askOperation()
            return
        self._queue(None, *offered)

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
        texts = lines(text) if "\n" in text else [text]
        if not texts or not texts[0]:
            self.view.show(_("Empty messages are not sent."))
            self._askOperation()
            return
        self._queue(target, *texts)

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
                you = self.paint("own", _("{me} (you)").format(me=me))
                self.view.show(self._stamp(f"{you} : {text} · {result}"))
                # Our own public message is one the user saw: it is in the
                # history when coming back (L{chatroom.client.catchup}).
                self._seen = remember(self._seen, Said(self._now(), self.name, "", text))
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
                    "{count} more line not sent.", "{count} more lines not sent.", left
                ).format(count=left)
            )
        self._askOperation()
