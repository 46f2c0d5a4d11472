"""
Protocol 1.2 over real sockets (TCP; UDP and the WebSocket once): a name whose vertical
strokes differ from an online or registered name's is that name for uniqueness; accounts
registered before 1.2 keep working, their keys recomputed when the database opens (SQLite
here; PostgreSQL in test_rekey.py).
"""

from __future__ import annotations

import sqlite3

import pytest_twisted
from helpers import wswire
from helpers.wire import connect, loggedIn

from chatroom import names
from chatroom.sqlitestore import openDatabase

PALOCHKA_ALICE = "\u0430\u04cf\u0456\u0441\u0435"
DOTLESS_ALICE = "a\u0131ice"


async def _hello(port: int):
    client = await connect(port)
    await client.expect("C HELLO chatroom 1 TCP")
    return client


async def _leave(client) -> None:
    client.send("C EX")
    await client.expect("C BYE EXIT")
    await client.waitClosed()


@pytest_twisted.ensureDeferred
async def test_palochka_alice_is_refused_beside_alice(server):
    alice = await loggedIn(server.port, "alice", "pw")
    client = await _hello(server.port)
    for name in (PALOCHKA_ALICE, DOTLESS_ALICE, "a1ice", "aIice"):
        client.send(f"C LOGIN {name}")
        answer = await client.next()
        assert answer == f"C ERR NAME_TAKEN {name} looks like alice, already in use", answer
    # alice away, her account still holds the name: registering a stroke look-alike fails.
    await _leave(alice)
    client.send(f"C LOGIN {PALOCHKA_ALICE}")
    answer = await client.next()
    assert answer.startswith(f"C ERR NAME_TAKEN {PALOCHKA_ALICE} looks like alice"), answer
    client.close()


@pytest_twisted.ensureDeferred
async def test_palochka_alice_is_refused_on_the_other_doors(server, udp):
    """
    The same refusal over UDP and the WebSocket: one roster behind every door.
    """
    alice = await loggedIn(server.port, "alice", "pw")
    carol = await udp.reliable(server.udpPort)
    carol.send(f"C LOGIN {PALOCHKA_ALICE}")
    await carol.expect("C HELLO chatroom 1 UDP")
    answer = await carol.next()
    assert answer == f"C ERR NAME_TAKEN {PALOCHKA_ALICE} looks like alice, already in use"
    web = await wswire.connect(server.webPort)
    await web.expect("C HELLO chatroom 1 WEB")
    web.send(f"C LOGIN {PALOCHKA_ALICE}")
    answer = await web.next()
    assert answer == f"C ERR NAME_TAKEN {PALOCHKA_ALICE} looks like alice, already in use"
    web.close()
    alice.close()


@pytest_twisted.ensureDeferred
async def test_lris_is_taken_while_iris_is_online_without_accounts(startServer):
    server = await startServer("--no-accounts")
    iris = await _hello(server.port)
    iris.send("C LOGIN iris")
    assert (await iris.next()).startswith("C WELCOME iris ")
    client = await _hello(server.port)
    client.send("C LOGIN lris")
    assert await client.next() == "C ERR NAME_TAKEN lris looks like iris, already in use"
    await _leave(iris)
    client.send("C LOGIN lris")
    assert (await client.next()).startswith("C WELCOME lris ")
    client.close()


def _beforeOnePointTwo(path: str, accounts: dict[str, str], passwords) -> None:
    """
    A v3 database whose accounts carry the keys chatroom gave them before 1.2: for these
    ASCII names, the names themselves (no folding of strokes).
    """
    openDatabase(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    for name, password in accounts.items():
        db.execute(
            "INSERT INTO accounts (name_key, name, password_hash, created, skeleton,"
            " shown_skeleton)"
            " VALUES (?, ?, ?, 0, ?, ?)",
            (names.caseless(name), name, passwords.hash(password), name.lower(), name),
        )
    db.close()


@pytest_twisted.ensureDeferred
async def test_accounts_from_before_1_2_keep_working(startServer, tmp_path, passwords):
    """
    iris and lris, both registered before 1.2, both log in, one at a time; alice's keys are
    recomputed at start, so that a new stroke look-alike of hers is refused.
    """
    path = str(tmp_path / "chat.sqlite")
    _beforeOnePointTwo(path, {"iris": "i", "lris": "l", "alice": "a"}, passwords)
    server = await startServer()
    iris = await loggedIn(server.port, "iris", "i")
    client = await _hello(server.port)
    client.send("C LOGIN lris")
    assert await client.next() == "C ERR NAME_TAKEN lris looks like iris, already in use"
    await _leave(iris)
    client.send("C LOGIN lris", "C PASS l")
    await client.expect(
        "C PASSWORD EXISTING", "C WELCOME lris TCP Welcome lris, you are connected via TCP."
    )
    rival = await _hello(server.port)
    rival.send(f"C LOGIN {DOTLESS_ALICE}")
    answer = await rival.next()
    assert answer.startswith(f"C ERR NAME_TAKEN {DOTLESS_ALICE} looks like alice"), answer
    for each in (client, rival):
        each.close()
