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
from helpers.waits import pause
from helpers.wire import connect, loggedIn

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


async def _leave(client) -> None:
    client.send("C EX")
    await client.expect("C BYE EXIT")
    await client.waitClosed()


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize(("first", "second"), [("alice", "aIice"), ("aIice", "alice")])
async def test_names_that_look_alike_as_shown_are_one_name(server, first, second):
    """
    aIice (capital I) and alice differ once casefolded, but not on screen:
    whichever came first, the other is refused while it is online, and
    while it is merely registered.
    """
    holder = await loggedIn(server.port, first, "pw")
    client = await _hello(server.port)
    client.send(f"C LOGIN {second}")
    answer = await client.next()
    assert answer.startswith(f"C ERR NAME_TAKEN {second} looks like {first}"), answer
    await _leave(holder)
    client.send(f"C LOGIN {second}")
    answer = await client.next()
    assert answer == f"C ERR NAME_TAKEN {second} looks like {first}, registered", answer
    client.send(f"C LOGIN {first}", "C PASS pw")
    await client.expect(
        "C PASSWORD EXISTING",
        f"C WELCOME {first} TCP Welcome {first}, you are connected via TCP.",
    )
    client.close()


@pytest_twisted.ensureDeferred
async def test_a_name_being_logged_in_holds_its_look_alikes(server):
    """
    Between C LOGIN and its end, a name holds its look-alikes as shown,
    and gives them back when the login fails.
    """
    first = await _hello(server.port)
    first.send("C LOGIN BOB")
    await first.expect("C PASSWORD NEW")
    second = await _hello(server.port)
    second.send("C LOGIN B0B")
    answer = await second.next()
    assert answer.startswith("C ERR NAME_TAKEN B0B looks like BOB"), answer
    first.send("C PASS zero\u200bwidth")
    assert (await first.next()).startswith("C ERR BAD_PASSWORD ")
    second.send("C LOGIN B0B", "C PASS pw")
    await second.expect("C PASSWORD NEW")
    assert (await second.next()).startswith("C WELCOME B0B ")
    first.send("C LOGIN BOB")
    answer = await first.next()
    assert answer.startswith("C ERR NAME_TAKEN BOB looks like B0B"), answer
    first.close()
    second.close()


@pytest_twisted.ensureDeferred
async def test_case_is_still_one_name_and_lris_too(server):
    """
    Iris and iris are one name, shown as registered; since 1.2 lris is
    that name too, whichever case the holder is spelt in (it was free
    beside a lower-case iris before: PROTOCOL.md section 2, 1.2).
    """
    iris = await loggedIn(server.port, "Iris", "pw")
    client = await _hello(server.port)
    client.send("C LOGIN iris")
    assert await client.next() == "C ERR NAME_TAKEN iris is already in use"
    client.send("C LOGIN lris")
    answer = await client.next()
    assert answer.startswith("C ERR NAME_TAKEN lris looks like Iris"), answer
    await _leave(iris)
    client.send("C LOGIN iris", "C PASS pw")
    await client.expect(
        "C PASSWORD EXISTING",
        "C WELCOME Iris TCP Welcome Iris, you are connected via TCP.",
    )
    lower = await loggedIn(server.port, "ines", "pw")
    lookAlike = await _hello(server.port)
    lookAlike.send("C LOGIN lnes")
    answer = await lookAlike.next()
    assert answer.startswith("C ERR NAME_TAKEN lnes looks like ines"), answer
    for each in (client, lower, lookAlike):
        each.close()


@pytest_twisted.ensureDeferred
async def test_a_guest_look_alike_is_free_once_its_holder_left(startServer):
    """
    Without accounts, a name online holds its look-alikes as shown until
    it leaves.
    """
    server = await startServer("--no-accounts")
    alice = await _hello(server.port)
    alice.send("C LOGIN alice")
    assert (await alice.next()).startswith("C WELCOME alice ")
    client = await _hello(server.port)
    client.send("C LOGIN aIice")
    answer = await client.next()
    assert answer.startswith("C ERR NAME_TAKEN aIice looks like alice"), answer
    await _leave(alice)
    client.send("C LOGIN aIice")
    assert (await client.next()).startswith("C WELCOME aIice ")
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
    store = server.chat.login.accounts.store
    for _ in range(100):
        account = await store.lookup("eve")
        if passwords.verify(account.passwordHash, CAFE_COMPOSED):
            break
        await pause(0.05)
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


@pytest_twisted.ensureDeferred
async def test_accounts_from_before_1_1_that_look_alike_as_shown(startServer, tmp_path, passwords):
    """
    Alice and AIice (capital I), both registered before 1.1, both keep
    working, one at a time, even when the name typed is neither spelling.
    """
    path = str(tmp_path / "chat.sqlite")
    _v1Database(path, {"Alice": "a", "AIice": "i"}, passwords)
    server = await startServer()
    aiice = await loggedIn(server.port, "AIice", "i")
    client = await _hello(server.port)
    # alice would open Alice's account: AIice is online, and since 1.2 the
    # typed name's strokes already match it, before any password.
    client.send("C LOGIN alice")
    assert await client.next() == "C ERR NAME_TAKEN alice looks like AIice, already in use"
    await _leave(aiice)
    client.send("C LOGIN alice", "C PASS a")
    await client.expect(
        "C PASSWORD EXISTING",
        "C WELCOME Alice TCP Welcome Alice, you are connected via TCP.",
    )
    rival = await _hello(server.port)
    rival.send("C LOGIN AIice")
    answer = await rival.next()
    assert answer.startswith("C ERR NAME_TAKEN AIice looks like Alice"), answer
    for each in (client, rival):
        each.close()
