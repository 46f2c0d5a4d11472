"""
Keeping order from the client (protocol 1.2, section 11): the moderation
verbs typed as one-line operations, the room's C{C MOD} notices told as
sentences, the list of bans and mutes, and what a moderated user meets
(muted, slowed, banned, kicked) in plain words.

A job of the conversation like sending or arriving (see
L{chatroom.client.conversation}). The client does not decide who may do
what: any user may type a verb, and the server answers C{DENIED} when the
role does not allow it. The client only knows whether the user is staff
(a moderator or an admin: the C{@} before its own name in C{C USERS}, or a
C{C MOD ROLE} about itself), to list the verbs in HELP for staff only.

Nothing a moderated user loses is left unsaid: a kick or a ban ends the
client with a sentence and no automatic return (a kick is a moderator's
"leave now"; coming straight back by itself would undo it without the
person even noticing), and a ban met while logging in (again) ends it too.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from chatroom.client.conversation import WAIT_BANS, WAIT_MOD, Conversation
from chatroom.client.hearing import _when
from chatroom.client.text import N_, _, ngettext

#: The verbs typed at the operation prompt, in any case (the protocol's words).
VERBS = ("KICK", "BAN", "UNBAN", "MUTE", "UNMUTE", "SLOW", "ROLE", "BANS")

#: How each verb is typed, shown when it is typed wrong.
USAGE = {
    "KICK": N_("KICK <name> [reason]"),
    "BAN": N_("BAN <name> <duration> [reason]"),
    "UNBAN": N_("UNBAN <name>"),
    "MUTE": N_("MUTE <name> <duration> [reason]"),
    "UNMUTE": N_("UNMUTE <name>"),
    "SLOW": N_("SLOW <seconds> (SLOW 0 turns it off)"),
    "ROLE": N_("ROLE <name> user|moderator"),
    "BANS": N_("BANS"),
}

#: What staff may type besides everyone's operations (HELP, for staff only).
STAFF_HELP = N_("""\
As a moderator or admin you can also type
  KICK <name> [reason]             end <name>'s sessions now (they may come back)
  BAN <name> <duration> [reason]   keep <name> out for 30m, 2h, 7d... or forever
  UNBAN <name>                     lift a ban
  MUTE <name> <duration> [reason]  <name> stays and reads, but cannot write
  UNMUTE <name>                    lift a mute
  SLOW <seconds>                   users may send one public message per <seconds> (0: off)
  ROLE <name> user|moderator       change a role (admins only)
  BANS                             list the bans and mutes in force
In the list of who is online, @ marks moderators and admins.""")

#: A duration as the protocol writes it: a whole number of minutes,
#: hours or days, or forever.
DURATION = re.compile(r"([0-9]{1,9})([mhd])|forever")

#: The roles a moderation verb may give (an admin is made by the admin command).
ROLES = ("user", "moderator")

#: C{C MOD <ACTION> …} as a sentence: with an end, and without one (C{-}).
NOTICES: dict[str, tuple[str, str]] = {
    "KICK": (N_("{name} was kicked out by {by}"), N_("{name} was kicked out by {by}")),
    "BAN": (
        N_("{name} was banned by {by} until {until}"),
        N_("{name} was banned by {by} for good"),
    ),
    "UNBAN": (N_("{by} lifted the ban on {name}"), N_("{by} lifted the ban on {name}")),
    "MUTE": (
        N_("{name} was muted by {by} until {until}"),
        N_("{name} was muted by {by} until further notice"),
    ),
    "UNMUTE": (N_("{by} lifted the mute on {name}"), N_("{by} lifted the mute on {name}")),
}

#: C{C MOD ROLE <name> <by> <role>}, by the new role.
NEW_ROLES = {
    "user": N_("{by} made {name} a user"),
    "moderator": N_("{by} made {name} a moderator"),
    "admin": N_("{by} made {name} an admin"),
}

#: A line of the C{C BANS} list (C{D BAN <name> <BAN|MUTE> <by> <until> …}).
LISTED = {
    ("BAN", True): N_("{name}: banned by {by} until {until}"),
    ("BAN", False): N_("{name}: banned by {by} for good"),
    ("MUTE", True): N_("{name}: muted by {by} until {until}"),
    ("MUTE", False): N_("{name}: muted by {by} until further notice"),
}


class Misuse(ValueError):
    """
    A moderation operation typed wrong; its message says how in plain words.
    """


def moderationFrame(verb: str, rest: str) -> str:
    """
    The frame for moderation operation C{verb} (upper case, one of
    L{VERBS}) typed with C{rest}.

    @raise Misuse: the operation is not complete, or a duration, a number
        of seconds or a role is not one; nothing is sent.
    """
    words = rest.split()
    usage = _("Type it as: {usage}").format(usage=_(USAGE[verb]))
    if verb == "BANS":
        if words:
            raise Misuse(usage)
        return "C BANS"
    if verb == "SLOW":
        seconds = words[0] if len(words) == 1 else ""
        if seconds.casefold() == "off":
            seconds = "0"
        if not (seconds.isascii() and seconds.isdigit() and len(seconds) <= 9):
            raise Misuse(usage)
        return f"C SLOW {int(seconds)}"
    if not words:
        raise Misuse(usage)
    # Typed as at login; "@bob" copied from the list of who is online is bob.
    name = unicodedata.normalize("NFKC", words[0]).removeprefix("@")
    if not name:
        raise Misuse(usage)
    if verb in ("UNBAN", "UNMUTE"):
        if len(words) != 1:
            raise Misuse(usage)
        return f"C {verb} {name}"
    if verb == "ROLE":
        role = words[1].casefold() if len(words) == 2 else ""
        if role not in ROLES:
            raise Misuse(usage)
        return f"C ROLE {name} {role}"
    reason = rest.strip()[len(words[0]) :].strip()
    if verb in ("BAN", "MUTE"):
        duration, _space, reason = reason.partition(" ")
        match = DURATION.fullmatch(duration.casefold())
        if not duration:
            raise Misuse(usage)
        if match is None or (match.group(1) is not None and int(match.group(1)) == 0):
            raise Misuse(
                _(
                    "{duration!r} is not a duration: type a whole number of minutes,"
                    " hours or days (30m, 2h, 7d), or forever."
                ).format(duration=duration)
            )
        parts = ("C", verb, name, duration.casefold(), reason.strip())
        return " ".join(part for part in parts if part)
    return " ".join(part for part in ("C", verb, name, reason) if part)


def staffIn(listed: str, name: str) -> bool | None:
    """
    Whether C{name} is marked as staff (C{@}) in a C{C USERS} list, or
    L{None} if it is not in the list.
    """
    for entry in listed.split(" "):
        who = entry.rpartition(":")[0]
        if who.removeprefix("@").casefold() == name.casefold() and who:
            return who.startswith("@")
    return None


def because(sentence: str, reason: str) -> str:
    """
    A moderation sentence, with the moderator's reason after it if given.
    """
    if reason:
        return _("{sentence}: {reason}").format(sentence=sentence, reason=reason)
    return _("{sentence}.").format(sentence=sentence)


class Moderating(Conversation):
    """
    The moderation part of the conversation.
    """

    def _moderate(self, verb: str, rest: str) -> None:
        """
        A moderation operation typed at the operation prompt: send it, or
        say how it is typed.
        """
        try:
            frame = moderationFrame(verb, rest)
        except Misuse as misuse:
            self.view.show(self.paint("problem", str(misuse)))
            self._askOperation()
            return
        self._target = frame.split(" ")[2] if verb not in ("SLOW", "BANS") else ""
        self.state = WAIT_BANS if verb == "BANS" else WAIT_MOD
        self._awaiting = None  # the server forgets any message it waited for
        self.view.send(frame)

    def _moderated(self) -> None:
        """
        C{C OK <VERB> …}: done. The C{C MOD} notice every user gets says what.
        """
        if self.state == WAIT_MOD:
            self._askOperation()

    def _staffNoted(self, listed: str) -> None:
        """
        A complete C{C USERS} list: whether we are staff now.
        """
        staff = staffIn(listed, self.name)
        if staff is not None:
            self.staff = staff

    def _clockTime(self, when: datetime) -> str:
        """
        A time to come, as the clock here shows it (with the date when it
        is not today).
        """
        now = self.clock()
        when = when.astimezone(now.tzinfo)
        return when.strftime("%H:%M" if when.date() == now.date() else "%Y-%m-%d %H:%M")

    def _until(self, stamp: str) -> str | None:
        """
        A protocol end time as local time, or L{None} for C{-} (no end).
        """
        when = _when(stamp)
        return None if when is None else self._clockTime(when)

    def _onMOD(self, rest: str) -> None:
        parts = rest.split(" ", 4)
        if len(parts) < 4:
            return
        action, name, by, until = parts[:4]
        reason = parts[4] if len(parts) == 5 else ""
        if action == "SLOW":
            seconds = int(name) if name.isdigit() else 0
            if seconds:
                sentence = ngettext(
                    "{by} turned on slow mode: one public message per {count} second",
                    "{by} turned on slow mode: one public message per {count} seconds",
                    seconds,
                ).format(by=by, count=seconds)
            else:
                sentence = _("{by} turned slow mode off").format(by=by)
        elif action == "ROLE":
            if name.casefold() == self.name.casefold():
                self.staff = until in ("moderator", "admin")
            sentence = _(NEW_ROLES.get(until, N_("{by} gave {name} the role {role}"))).format(
                by=by, name=name, role=until
            )
        elif action in NOTICES:
            shown = self._until(until)
            ending, endless = NOTICES[action]
            sentence = _(endless if shown is None else ending).format(name=name, by=by, until=shown)
        else:  # an action of a later version
            sentence = _("{by} did {action} to {name}").format(by=by, action=action, name=name)
        self._live(self._stamp(self.paint("notice", because(sentence, reason))))

    # C BANS <n>, then n frames D BAN <name> <BAN|MUTE> <by> <until> [reason].

    def _onBANS(self, rest: str) -> None:
        self._bans = []
        self._bansLeft = int(rest) if rest.isdigit() else 0
        if self._bansLeft == 0:
            self._bansDone()

    def _banEntry(self, rest: str) -> None:
        if self._bansLeft <= 0:
            return
        parts = rest.split(" ", 4)
        if len(parts) >= 4:
            name, kind, by, until = parts[:4]
            shown = self._until(until)
            sentence = _(LISTED.get((kind, shown is not None), LISTED[("BAN", False)])).format(
                name=name, by=by, until=shown
            )
            self._bans.append("  " + because(sentence, parts[4] if len(parts) == 5 else ""))
        self._bansLeft -= 1
        if self._bansLeft == 0:
            self._bansDone()

    def _bansDone(self) -> None:
        bans, self._bans = self._bans, []
        if bans:
            self.view.show(
                ngettext(
                    "{count} ban or mute in force, soonest end first:",
                    "{count} bans and mutes in force, soonest end first:",
                    len(bans),
                ).format(count=len(bans))
            )
            for line in bans:
                self.view.show(line)
        else:
            self.view.show(_("No bans or mutes are in force."))
        if self.state == WAIT_BANS:
            self._askOperation()

    # Refusals, in plain words.

    def _explainModeration(self, code: str, text: str) -> str | None:
        """
        A 1.2 refusal in plain words, or L{None} if C{code} is not one.
        """
        if code == "MUTED":
            shown = self._until(text.partition(" ")[0])
            if shown is None:
                return _("You are muted; your message was not sent.")
            return _("You are muted until {until}; your message was not sent.").format(until=shown)
        if code == "SLOW":
            seconds = text.partition(" ")[0]
            count = int(seconds) if seconds.isdigit() else 1
            return ngettext(
                "Slow mode is on: wait {count} second before your next message;"
                " this one was not sent.",
                "Slow mode is on: wait {count} seconds before your next message;"
                " this one was not sent.",
                count,
            ).format(count=count)
        if code == "DENIED":
            return _(
                "You may not do that: moderators act on users, admins on users and"
                " moderators, and nobody on an admin or on themselves."
            )
        return None

    def _moderationRefused(self, code: str, explained: str) -> None:
        """
        The answer to a moderation verb was an error: say why, and go on.
        """
        if code == "NO_SUCH_USER":
            self.view.show(
                self.paint(
                    "problem", _("There is no account named {name}.").format(name=self._target)
                )
            )
        else:
            self.view.show(self.paint("problem", explained))
        self._bans, self._bansLeft = [], 0
        self._askOperation()

    def _banned(self, text: str) -> None:
        """
        C{C ERR BANNED <until> [reason]} at login: this name cannot come
        in; trying again by itself would only be refused again.
        """
        stamp, _space, reason = text.partition(" ")
        shown = self._until(stamp)
        if shown is None:
            sentence = _("{name} is banned from this room").format(name=self.name)
        else:
            sentence = _("{name} is banned from this room until {until}").format(
                name=self.name, until=shown
            )
        self._password = None
        self._finish(self.paint("problem", because(sentence, reason)), 1)

    def _removed(self, reason: str) -> None:
        """
        C{C BYE KICKED} or C{C BYE BANNED}: the C{C MOD} notice before it
        said by whom and why; this says what it means for the user.
        """
        if reason == "BANNED":
            told = _("You are banned from this room, so chatclient ends here.")
        else:
            told = _("You were kicked out of the room. You may come back: start chatclient again.")
        self._password = None
        self._finish(self.paint("problem", told), 1)
