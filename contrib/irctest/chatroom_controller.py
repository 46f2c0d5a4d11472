"""
An irctest controller for chatroom's IRC door (not part of the test suite).

progval/irctest is the community's conformance suite for IRC servers; it is
not on PyPI, so CI cannot fetch it, and its code stays out of this
repository. To run it by hand, see README.rst beside this file.

Two things differ from the servers irctest was written for, and this
controller bridges them without changing what a test asserts:

- A nickname is an account. Tests that need accounts (irctest's
  C{run_services}) get a server with accounts, and every client that does
  not authenticate sends C{PASS} (a password made from its nickname, or the
  one L{registerUser} registered) before C{NICK}; other tests get
  C{--no-accounts}, where C{NICK} and C{USER} are enough.
- The room is one channel, C{$CHATROOM_CHANNEL} (C{#chan} by default, the
  name most tests use); a test written for another name is run with that
  name instead.

Server passwords (a C{PASS} every connection must give) do not exist here:
those tests are reported as not implemented.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from irctest import cases
from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController

#: Passwords of the accounts the current test registered, by lower-cased nickname.
PASSWORDS: dict[str, str] = {}

#: AUTHENTICATE arguments that start or abort an exchange rather than carry credentials.
NOT_CREDENTIALS = {"PLAIN", "EXTERNAL", "SCRAM-SHA-256", "*"}


def withPasswords(sendLine: Any) -> Any:
    """
    Wrap irctest's C{sendLine}: on a server with accounts, a client that
    reaches C{NICK} without having authenticated sends C{PASS} first.
    """

    def send(case: Any, client: Any, line: str) -> Any:
        controller = case.controller
        if getattr(controller, "accounts", False):
            said = controller.said.setdefault(client, set())
            word, _, rest = line.partition(" ")
            word = word.upper()
            if word == "PASS" or (word == "AUTHENTICATE" and rest.strip() not in NOT_CREDENTIALS):
                said.add("password")
            if word == "NICK" and not said & {"password", "nick"}:
                nick = rest.split(" ")[0].lstrip(":").lower()
                sendLine(case, client, "PASS " + PASSWORDS.setdefault(nick, "pw-" + nick))
                said.add("password")
            if word == "NICK":
                said.add("nick")
        return sendLine(case, client, line)

    return send


def forgetting(addClient: Any) -> Any:
    """
    Wrap irctest's C{addClient}: a client name used again is a new client.
    """

    def add(case: Any, *args: Any, **kwargs: Any) -> Any:
        name = addClient(case, *args, **kwargs)
        getattr(case.controller, "said", {}).pop(name, None)
        return name

    return add


cases.BaseServerTestCase.sendLine = withPasswords(cases.BaseServerTestCase.sendLine)
cases.BaseServerTestCase.addClient = forgetting(cases.BaseServerTestCase.addClient)


class ChatroomController(BaseServerController, DirectoryBasedController):
    software_name = "chatroom"
    supported_sasl_mechanisms: ClassVar[set[str]] = {"PLAIN"}
    supports_sts = False
    accounts = False

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: str | None,
        ssl: bool,
        run_services: bool,
        faketime: str | None,
        websocket_hostname: str | None = None,
        websocket_port: int | None = None,
        config: Any = None,
    ) -> None:
        if password is not None:
            raise NotImplementedByController("server password (PASS is an account's here)")
        if ssl or websocket_hostname is not None:
            raise NotImplementedByController("TLS and WebSocket listeners in irctest")
        assert self.proc is None
        self.port = port
        self.hostname = hostname
        self.create_config()
        assert self.directory
        self.accounts = run_services
        self.said: dict[Any, set[str]] = {}
        PASSWORDS.clear()
        venv = os.environ.get("CHATROOM_VENV", ".venv")
        argv = [
            os.path.join(venv, "bin", "twistd"),
            "-n",
            "--pidfile=",
            "--logfile",
            str(self.directory / "server.log"),
            "chatroom",
            "--port=0",
            "--no-udp",
            "--no-web",
            "--interface=127.0.0.1",
            f"--irc=tcp:{port}:interface={hostname}",
            "--irc-channel=" + os.environ.get("CHATROOM_CHANNEL", "#chan"),
            "--irc-server-name=My.Little.Server",
            "--db=" + str(self.directory / "chat.sqlite"),
            # irctest opens many connections and registers many accounts from one address
            # quickly; the limits are tested by chatroom's own suite.
            "--msg-rate=0",
            "--login-failures=0",
            "--max-registrations=0",
        ]
        if not run_services:
            argv.append("--no-accounts")
        self.proc = self.execute(argv)

    def wait_for_services(self) -> None:
        """
        Accounts are the server's own: no services to wait for.
        """

    def registerUser(self, case: Any, username: str, password: str | None = None) -> None:
        """
        Register C{username} as chatroom does: by logging in once with the password.
        """
        assert password
        PASSWORDS[username.lower()] = password
        client = case.addClient(show_io=False)
        case.sendLine(client, "PASS " + password)
        case.sendLine(client, "NICK " + username)
        case.sendLine(client, "USER r 0 * :registering")
        while case.getRegistrationMessage(client).command != "001":
            pass
        case.getMessages(client)
        case.sendLine(client, "QUIT")
        case.assertDisconnected(client)


def get_irctest_controller_class() -> type[ChatroomController]:
    return ChatroomController
