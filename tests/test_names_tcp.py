"""
Protocol 1.1 names and passwords over real TCP sockets (PROTOCOL.md
section 2): look-alike names are refused, single-script names in any
script are welcome, passwords compare after PRECIS OpaqueString, and
accounts made before 1.1 keep working.
"""

from __future__ import annotations

import sqlite3
from importlib.resources import files

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred
from wire import connect, loggedIn

from chatroom import names

#: Each was welcomed while alice was online, before 1.1.
LOOK_ALIKES = [
    "alice\u034f",
    "alice\ufe0f",
    "alice\ufe00",
    "alice\U000e0100",
    "alice\u180b",
    "alice\u17b4",
    "alice\u3164",
    "alice\uffa0",
    "alice\u1160",
    "\u0430lice",  # Cyrillic a
    "b\u03bfb",  # Greek omicron
    "\u3164",  # renders blank
]

COP_CYRILLIC = "\u0441\u043e\u0440"
CAFE_COMPOSED = "caf\u00e9"
CAFE_DECOMPOSED = "cafe\u0301"


async def _hello(port: int):
    client = await connect(port)
    await client.expect("C HELLO chatroom 1 TCP")
    return client


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor

    d: Deferred[None] = Deferred()
    reactor.callLater(seconds, d.callback, None)
    await d


@pytest_twisted.ensureDeferred
async def test_look_alikes_of_an_online_name_are_refused(server):
    alice = await loggedIn(server.port, "alice")
    bob = await loggedIn(server.port, "bob")
    client = await _hello(server.port)
    for name in LOOK_ALIKES:
        client.send(f"C LOGIN {name}")
        answer = await client.next()
        assert answer.startswith("C ERR BAD_NAME "), (name, answer)
    # Valid names that are alice's or bob's for uniqueness.
    for name in ["ALICE", "\uff21lice", "BOB"]:
        client.send(f"C LOGIN {name}")
        answer = await client.next()
        assert answer.startswith("C ERR NAME_TAKEN "), (name, answer)
    client.send("C WHO")
    assert (await client.next()).startswith("C ERR STATE ")
    for each in (client, alice, bob):
        each.close()


@pytest_twisted.ensureDeferred
async def test_a_look_alike_of_a_registered_name_is_taken(server):
    """
    The all-Cyrillic сор is cop for uniqueness: not while cop is online,
    not while cop is merely registered, and never cop's account.
    """
    cop = await loggedIn(server.port, "cop", "cops-secret")
    client = await _hello(server.port)
    client.send(f"C LOGIN {COP_CYRILLIC}")
    answer = await client.next()
    assert answer.startswith(f"C ERR NAME_TAKEN {COP_CYRILLIC} looks like cop"), answer
    cop.send("C EX")
    await cop.expect("C BYE EXIT")
    await cop.waitClosed()
    client.send(f"C LOGIN {COP_CYRILLIC}")
    answer = await client.next()
    assert answer.startswith("C ERR NAME_TAKEN "), answer
    assert "registered" in answer
    # cop's own name still opens cop's account.
    client.send("C LOGIN Cop", "C PASS cops-secret")
    await client.expect(
        "C PASSWORD EXISTING",
        "C WELCOME cop TCP Welcome cop, you are connected via TCP.",
    )
    client.close()


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("name", ["Алиса", "Σωκράτης", "नमस्ते", "李小龍", "Şule", "Gökhan"])
async def test_single_script_names_are_welcome(server, name):
    client = await loggedIn(server.port, name, "pw")
    client.close()
    again = await _hello(server.port)
    again.send(f"C LOGIN {name}", "C PASS pw")
    await again.expect(
        "C PASSWORD EXISTING",
        f"C WELCOME {name} TCP Welcome {name}, you are connected via TCP.",
    )
    again.close()


@pytest_twisted.ensureDeferred
async def test_passwords_compare_after_opaque_string(server):
    """
    café typed composed or decomposed is one password, both ways round.
    """
    for name, chosen, typed in [
        ("ana", CAFE_COMPOSED, CAFE_DECOMPOSED),
        ("ben", CAFE_DECOMPOSED, CAFE_COMPOSED),
        ("cy", "no\u00a0break", "no break"),
    ]:
        (await loggedIn(server.port, name, chosen)).close()
        client = await _hello(server.port)
        client.send(f"C LOGIN {name}", f"C PASS {typed}")
        await client.expect(
            "C PASSWORD EXISTING",
            f"C WELCOME {name} TCP Welcome {name}, you are connected via TCP.",
        )
        client.close()


@pytest_twisted.ensureDeferred
async def test_a_password_opaque_string_refuses_is_bad(server):
    client = await _hello(server.port)
    client.send("C LOGIN dora", "C PASS zero\u200bwidth")
    await client.expect("C PASSWORD NEW")
    answer = await client.next()
    assert answer == "C ERR BAD_PASSWORD passwords cannot hold U+200B (precis ignorable properties)"
    client.send("C LOGIN dora", "C PASS fine")
    await client.expect("C PASSWORD NEW")
    assert (await client.next()).startswith("C WELCOME dora ")
    client.close()


def _v1Database(path: str, accounts: dict[str, str], passwords) -> None:
    """
    A database as chatroom made it before 1.1: schema v1, each password
    hashed as typed.
    """
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        (files("chatroom.schema") / "v1.sql").read_text("utf-8") + "INSERT INTO version VALUES (1);"
    )
    for name, password in accounts.items():
        db.execute(
            "INSERT INTO accounts VALUES (?, ?, ?, 0)",
            (names.caseless(name), name, passwords.hash(password)),
        )
    db.close()


@pytest_twisted.ensureDeferred
async def test_accounts_from_before_1_1_keep_working(startServer, tmp_path, passwords):
    """
    Accounts that 1.1 counts as one name (cop and сор; alice and the
    mixed-script аlice) all still log in, each to its own account, one at
    a time; passwords hashed as typed still open them, and are hashed again
    in their prepared form so that any spelling works from then on.
    """
    legacy = {
        "cop": "c",
        COP_CYRILLIC: "s",
        "alice": "a",
        "\u0430lice": "m",
        "eve": CAFE_DECOMPOSED,
        "zed": "zero\u200bwidth",
    }
    path = str(tmp_path / "chat.sqlite")
    _v1Database(path, legacy, passwords)
    server = await startServer()
    for name, password in legacy.items():
        client = await _hello(server.port)
        client.send(f"C LOGIN {name}", f"C PASS {password}")
        await client.expect(
            "C PASSWORD EXISTING",
            f"C WELCOME {name} TCP Welcome {name}, you are connected via TCP.",
        )
        client.send("C EX")
        await client.expect("C BYE EXIT")
        await client.waitClosed()

    # eve's hash is redone from the prepared password, off the reactor:
    # wait (bounded) for it to land, then the composed spelling opens it.
    store = server.chat.accounts.store
    for _ in range(100):
        account = await store.lookup("eve")
        if passwords.verify(account.passwordHash, CAFE_COMPOSED):
            break
        await _sleep(0.05)
    client = await _hello(server.port)
    client.send("C LOGIN eve", f"C PASS {CAFE_COMPOSED}")
    await client.expect(
        "C PASSWORD EXISTING",
        "C WELCOME eve TCP Welcome eve, you are connected via TCP.",
    )

    # Nobody registers a new look-alike, nor a new mixed-script name.
    other = await _hello(server.port)
    other.send("C LOGIN COP", "C PASS c")
    await other.expect(
        "C PASSWORD EXISTING",
        "C WELCOME cop TCP Welcome cop, you are connected via TCP.",
    )
    rival = await _hello(server.port)
    rival.send(f"C LOGIN {COP_CYRILLIC}")
    assert (await rival.next()).startswith("C ERR NAME_TAKEN ")
    rival.send("C LOGIN \u0430lex")
    assert (await rival.next()).startswith("C ERR BAD_NAME ")
    for each in (client, other, rival):
        each.close()
