"""
What the room counts for its operator: plain numbers, read by
L{chatroom.metrics} when Prometheus scrapes them.

The room only adds to these; it knows nothing of Prometheus. Counting is
done once per message (the number of recipients the fan-out already
returns is added), never once per recipient, so it does not show in the
cost of a broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The kinds of message L{Counters.said} counts.
PUBLIC = "public"
DIRECT = "direct"


@dataclass
class Counters:
    """
    Totals since the server started.

    @ivar messages: messages accepted, by kind (L{PUBLIC}, L{DIRECT}).
    @ivar deliveries: frames handed to recipients for those messages.
    @ivar logins: login attempts by result (C{ok}, C{bad_password},
        C{rate_limited}, C{unavailable}, C{banned}); a wrong old password
        given to C{C PASSWD} counts as C{bad_password}.
    @ivar moderation: moderation actions by verb, lower case (C{kick},
        C{ban}, C{unban}, C{mute}, C{unmute}, C{slow}, C{role}), counted by
        L{chatroom.moderation} (protocol 1.2, section 11).
    """

    messages: dict[str, int] = field(default_factory=lambda: {PUBLIC: 0, DIRECT: 0})
    deliveries: int = 0
    logins: dict[str, int] = field(default_factory=dict)
    moderation: dict[str, int] = field(default_factory=dict)

    def said(self, kind: str, recipients: int) -> None:
        """
        One message of C{kind} was accepted and handed to C{recipients}.
        """
        self.messages[kind] += 1
        self.deliveries += recipients

    def login(self, result: str) -> None:
        """
        One login attempt ended with C{result}.
        """
        self.logins[result] = self.logins.get(result, 0) + 1

    def moderated(self, action: str) -> None:
        """
        One moderation C{action} was done.
        """
        self.moderation[action] = self.moderation.get(action, 0) + 1
