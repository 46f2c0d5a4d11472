"""
A L{ClientMachine} and a view that records what it sends, shows and asks,
for the tests of the client's conversation (tests/client/test_client_machine*.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from chatroom.client.machine import ClientMachine

#: The machine's clock in these tests: times show as 10:52 (UTC here).
NOW = datetime(2026, 11, 21, 10, 52, 30, tzinfo=UTC)

#: The question at the top of the conversation, as the view is asked it.
OPERATION = ("Operation [PM/DM/EX]: ", False)


def clock() -> datetime:
    return NOW


class View:
    """
    What the machine asked of its view, kept for the test to read. A
    machine that does not come back (C{comesBack}) never goes away: that
    is a failure at once.
    """

    def __init__(self, comesBack: bool = False) -> None:
        self.comesBack = comesBack
        self.wentAway: list[str] = []
        self.backs = 0
        self.sent: list[str] = []
        self.shown: list[str] = []
        self.asked: list[tuple[str, bool]] = []
        self.defaults: list[str] = []  # text put back on the line to edit
        self.reconnects = 0
        self.status: int | None = None

    def send(self, frame: str) -> None:
        self.sent.append(frame)

    def show(self, text: str) -> None:
        self.shown.append(text)

    def ask(self, prompt: str, secret: bool = False, default: str = "") -> None:
        self.asked.append((prompt, secret))
        self.defaults.append(default)

    def reconnect(self) -> None:
        self.reconnects += 1

    def away(self, why: str) -> None:
        if not self.comesBack:
            raise AssertionError("only a machine that comes back goes away")
        self.wentAway.append(why)

    def back(self) -> None:
        if not self.comesBack:
            raise AssertionError("only a machine that comes back comes back")
        self.backs += 1

    def finish(self, status: int) -> None:
        self.status = status

    def take(self) -> tuple[list[str], list[str], list[tuple[str, bool]]]:
        out = (self.sent, self.shown, self.asked)
        self.sent, self.shown, self.asked = [], [], []
        return out


def welcomed(
    name: str = "alice",
    transport: str = "TCP",
    terminal: bool = False,
    users: str | None = None,
    zone: tzinfo = UTC,
    comesBack: bool = False,
) -> tuple[ClientMachine, View]:
    """
    A machine logged in, past its arrival (no history), with C{users}
    online (itself alone unless told), its times shown in C{zone}.
    """
    view = View(comesBack)
    machine = ClientMachine(
        view, name, transport, terminal=terminal, clock=lambda: NOW.astimezone(zone)
    )
    machine.comesBack = comesBack
    machine.connected()
    machine.frameReceived(f"C HELLO chatroom 1 {transport}")
    machine.frameReceived("C PASSWORD EXISTING")
    machine.answer("pw")
    machine.frameReceived(
        f"C WELCOME {name} {transport} Welcome {name}, you are connected via {transport}."
    )
    machine.frameReceived(f"C USERS {users or f'{name}:{transport}'}")
    machine.frameReceived("C HISTORY 0")
    view.take()
    return machine, view
