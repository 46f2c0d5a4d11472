"""
Registering an IRC client: C{CAP}, C{NICK}, C{USER}, C{PASS} and SASL
C{PLAIN}, then the room's login (C{C LOGIN}, C{C PASS}) and the welcome
(C{001}-C{005}, C{LUSERS}, C{MOTD}).

The password reaches the room as C{C PASS} does from any door, so a new
nickname is registered, a wrong password counts, and the room's rules on
names, bans and clear-text passwords hold. SASL logs in as soon as its
credentials come (clients send C{CAP END} only after C{903}), so it may
come before C{NICK}.

A nickname is an account here, so SASL's authentication name decides the
nickname: a client that said C{NICK foo} and then proved the account
C{jilles} is registered as C{jilles} (C{900} and C{001} tell it), as Ergo
does with C{force-nick-equals-account}. Refusing it instead, as section 14
first read, would turn away a client whose proof was good over a nickname
that cannot be its own anyway.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from chatroom import __version__, codec
from chatroom.codec import Frame
from chatroom.irc import wire
from chatroom.irc.directory import Entry
from chatroom.irc.history import MAX as MAX_HISTORY
from chatroom.names import caseless

if TYPE_CHECKING:
    from chatroom.irc.door import IRCConnection

#: What an IRC client is told to do after the room's C{C ERR INSECURE} (C{--plaintext-logins}).
INSECURE_ADVICE = "connect again with TLS"

#: The capabilities offered (IRCv3), with their values for C{CAP LS 302}.
CAPS = {
    "sasl": "PLAIN",
    "server-time": "",
    "message-tags": "",
    "echo-message": "",
    "account-tag": "",
    "multi-prefix": "",
    "userhost-in-names": "",
    "labeled-response": "",
    "batch": "",
    "draft/chathistory": "",
}

#: The longest C{AUTHENTICATE} argument (IRCv3 SASL): longer ones get C{905}.
SASL_CHUNK = 400

#: The most base64 a SASL C{PLAIN} exchange may carry: a 64-character name twice and a
#: 256-character password, each character up to 4 bytes in UTF-8, with room to spare.
SASL_MOST = 2400

#: Characters no nickname may hold on IRC's wire (the room refuses them too).
NOT_IN_NICK = frozenset(" ,*?!@:#")


def cap(connection: IRCConnection, params: list[str]) -> None:
    sub = params[0].upper() if params else ""
    me = connection.me
    server = connection.factory.serverName
    if sub == "LS":
        if connection.stage.name == "REGISTERING":
            connection.negotiating = True
        v302 = len(params) > 1 and params[1].isdigit() and int(params[1]) >= 302
        offered = " ".join(k + (f"={v}" if v and v302 else "") for k, v in CAPS.items())
        connection.send(wire.format("CAP", [me, "LS", offered], server))
    elif sub == "LIST":
        connection.send(wire.format("CAP", [me, "LIST", " ".join(sorted(connection.caps))], server))
    elif sub == "REQ":
        if connection.stage.name == "REGISTERING":
            connection.negotiating = True
        asked = params[1] if len(params) > 1 else ""
        wanted = asked.split()
        if wanted and all(name.lstrip("-") in CAPS for name in wanted):
            for name in wanted:
                if name.startswith("-"):
                    connection.caps.discard(name[1:])
                else:
                    connection.caps.add(name)
            connection.send(wire.format("CAP", [me, "ACK", asked.strip()], server))
        else:
            connection.send(wire.format("CAP", [me, "NAK", asked.strip()], server))
    elif sub == "END":
        connection.negotiating = False
        if connection.sasl is not None:
            connection.sasl = None
            connection.numeric("906", "SASL authentication aborted")
        complete(connection)
    else:
        connection.numeric("410", sub or "*", "Invalid CAP command")


def nick(connection: IRCConnection, params: list[str]) -> None:
    if not params or not params[0]:
        connection.numeric("431", "No nickname given")
        return
    wanted = params[0]
    if NOT_IN_NICK & set(wanted) or len(wanted) > 64:
        connection.numeric("432", wanted, "Erroneous nickname")
        return
    if connection.account is not None and caseless(wanted) != caseless(connection.account):
        connection.numeric("902", "You must use the nick of your account: " + connection.account)
        complete(connection)
        return
    connection.nick = wanted if connection.account is None else connection.account
    complete(connection)


def user(connection: IRCConnection, params: list[str]) -> None:
    if len(params) < 4 or not params[3] or not params[0]:
        connection.numeric("461", "USER", "Not enough parameters")
        return
    connection.user = params[0][:32]
    connection.realname = params[3]
    complete(connection)


def password(connection: IRCConnection, params: list[str]) -> None:
    if not params or not params[0]:
        connection.numeric("461", "PASS", "Not enough parameters")
        return
    connection.password = params[0]


def authenticate(connection: IRCConnection, params: list[str]) -> None:
    """
    SASL C{PLAIN} (RFC 4616) in C{AUTHENTICATE} chunks of 400 bytes.
    """
    argument = params[0] if params else ""
    if connection.stage.name != "REGISTERING":
        connection.numeric("462", "You may not reregister: your nickname is your account")
        return
    if "sasl" not in connection.caps:
        connection.numeric("904", "SASL authentication failed: request the sasl capability")
        return
    if connection.account is not None:
        connection.numeric("907", "You have already authenticated using SASL")
        return
    if argument == "*":
        connection.sasl = None
        connection.numeric("906", "SASL authentication aborted")
        return
    if connection.sasl is None:
        if argument.upper() != "PLAIN":
            connection.numeric("908", "PLAIN", "are available SASL mechanisms")
            connection.numeric("904", "SASL authentication failed")
            return
        connection.sasl = []
        connection.send(wire.format("AUTHENTICATE", ["+"]))
        return
    if len(argument) > SASL_CHUNK:
        connection.sasl = None
        connection.numeric("905", "SASL message too long")
        return
    if argument != "+":
        connection.sasl.append(argument)
    if sum(map(len, connection.sasl)) > SASL_MOST:
        connection.sasl = None
        connection.numeric("904", "SASL authentication failed: the credentials are too long")
        return
    if len(argument) == SASL_CHUNK:
        return  # more chunks follow
    chunks, connection.sasl = connection.sasl, None
    try:
        decoded = base64.b64decode("".join(chunks), validate=True).decode("utf-8")
        authz, authc, secret = decoded.split("\0")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        connection.numeric("904", "SASL authentication failed: not PLAIN credentials")
        return
    if (authz and authz != authc) or not authc or not secret:
        connection.numeric("904", "SASL authentication failed: give one account name")
        return
    login(connection, authc, secret, sasl=True)


def login(connection: IRCConnection, name: str, secret: str | None, sasl: bool) -> None:
    """
    Log in to the room as C{name} with C{secret}, by the room's frames.
    """

    def refused(code: str, text: str) -> None:
        if code == "INSECURE":
            # Not a wrong password: say what to do instead (an IRC client's way to encrypt
            # is TLS), and let a SASL client go on as after any failed SASL attempt.
            text = f"{text}: {INSECURE_ADVICE}"
        if sasl:
            if code == "BANNED":
                connection.numeric("465", f"You are banned: {text}")
            connection.numeric("904", f"SASL authentication failed: {text}")
        elif code == "BAD_NAME":
            connection.numeric("432", name, f"Erroneous nickname: {text}")
            connection.nick = None
        elif code == "NAME_TAKEN":
            connection.numeric("433", name, "Nickname is already in use")
            connection.nick = None
        elif code == "BANNED":
            connection.numeric("465", f"You are banned from this server: {text}")
            connection.fail("banned")
        elif code == "INSECURE":
            connection.numeric("464", f"Password not accepted: {text}")
            connection.fail("passwords only over TLS")
        elif code == "BAD_PASSWORD":
            connection.numeric("464", f"Password incorrect: {text}")
            connection.fail("bad password")
        else:
            connection.numeric("NOTICE" if code == "RATE" else "464", f"{code}: {text}")
            if code != "RATE":
                connection.fail(text)

    def welcomed(frame: Frame) -> None:
        connection.account = frame.rest.split(" ", 1)[0]
        connection.nick = connection.account
        enter(connection)
        if sasl:
            mask = f"{connection.account}!{connection.user or connection.account}@{connection.host}"
            connection.numeric("900", mask, connection.account, "You are now logged in")
            connection.numeric("903", "SASL authentication successful")
        complete(connection)

    def answered(frame: Frame) -> bool:
        if frame.verb == "WELCOME":
            welcomed(frame)
        elif frame.verb == "PASSWORD":
            if secret is None:
                connection.numeric(
                    "464",
                    "Password required: give it with PASS <password> or SASL PLAIN before"
                    " registering (a new nickname is registered with it)",
                )
                connection.fail("password required")
                return True
            connection.toRoom(codec.command("PASS", secret), answered)
        elif frame.verb == "ERR":
            code, _, text = frame.rest.partition(" ")
            refused(code, text)
        return True

    connection.toRoom(codec.command("LOGIN", name), answered)


def complete(connection: IRCConnection) -> None:
    """
    Register once everything is known: log in to the room (unless SASL
    did), then welcome.
    """
    if (
        connection.stage.name != "REGISTERING"
        or connection.nick is None
        or connection.user is None
        or connection.negotiating
        or connection.sasl is not None
    ):
        return
    if connection.account is None:
        secret = connection.password
        if secret is not None and caseless(secret).startswith(caseless(connection.nick) + ":"):
            secret = secret[len(connection.nick) + 1 :]
        login(connection, connection.nick, secret, sasl=False)
        return
    welcome(connection)


def enter(connection: IRCConnection) -> Entry:
    """
    The connection's entry in its listener's directory, made when the room
    welcomed it (before the room tells everyone else), so that other IRC
    users show its JOIN only when it joins the channel.
    """
    if connection.entry is None:
        me = connection.me
        user = connection.user or me
        entry = Entry(me, user, connection.realname, connection.host, connection)
        connection.entry = entry
        connection.factory.directory.add(entry)
    return connection.entry


def welcome(connection: IRCConnection) -> None:
    from chatroom.irc import commands, mapping
    from chatroom.irc.door import Stage

    factory = connection.factory
    me = connection.me
    connection.move(Stage.WELCOMING)
    entry = enter(connection)
    entry.user = connection.user or me
    entry.realname = connection.realname
    version = f"chatroom-{__version__}"
    created = mapping.stamp(factory.created)
    connection.numeric("001", f"Welcome to the {factory.network} IRC network {connection.mask}")
    connection.numeric("002", f"Your host is {factory.serverName}, running version {version}")
    connection.numeric("003", f"This server was created {created}")
    connection.numeric("004", factory.serverName, version, "i", "nt", "ov")
    tokens = [
        "CHANTYPES=#",
        "PREFIX=(ov)@+",
        "CASEMAPPING=rfc8265",
        "NICKLEN=32",
        "CHANNELLEN=64",
        "UTF8ONLY",
        "TARGMAX=PRIVMSG:1,NOTICE:1,NAMES:1,WHOIS:1,JOIN:1,PART:1,KICK:1",
        f"NETWORK={factory.network}",
        "CHANMODES=,,,nt",
        "AWAYLEN=390",
        "KICKLEN=390",
        "CHANLIMIT=#:1",
        f"CHATHISTORY={MAX_HISTORY}",
    ]
    connection.numeric("005", *tokens, "are supported by this server")

    def then() -> None:
        if connection.stage is not Stage.WELCOMING:
            return  # closed meanwhile
        commands.motd(connection)
        connection.move(Stage.REGISTERED)
        held, connection.held = connection.held, []
        for frame in held:
            mapping.translate(connection, frame)

    commands.lusers(connection, then)  # then() comes even if the room refuses C WHO
