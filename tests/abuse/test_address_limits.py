"""
What one address may do by default: enough for a classroom behind one NAT,
not enough to take the server. Over real sockets, all from 127.0.0.1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest_twisted
from helpers.wire import connect, loggedIn
from twisted.internet.defer import Deferred, gatherResults

from chatroom.options import Options

README = Path(__file__).resolve().parents[2] / "README.rst"


def test_defaults_are_what_the_readme_says():
    options = Options()
    options.parseOptions([])
    assert options["max-per-ip"] == 64
    assert options["max-registrations"] == 60
    readme = README.read_text("utf-8")
    assert re.search(r"``--max-per-ip N``\s+64 at once\s", readme)
    assert re.search(r"``--max-registrations N``\s+60 an hour\s", readme)


@pytest_twisted.ensureDeferred
async def test_one_address_cannot_take_every_slot_by_default(startServer):
    server = await startServer()
    clients = await gatherResults([Deferred.fromCoroutine(connect(server.port)) for _ in range(64)])
    try:
        for client in clients:
            await client.expect("C HELLO chatroom 1 TCP")
        refused = await connect(server.port)
        assert await refused.next() == "C ERR FULL too many sessions from your address"
        await refused.waitClosed()
        clients[0].close()
        await clients[0].waitClosed()
        again = await connect(server.port)
        await again.expect("C HELLO chatroom 1 TCP")
        again.close()
    finally:
        for client in clients:
            client.close()


@pytest_twisted.ensureDeferred
async def test_registrations_per_address(startServer):
    server = await startServer("--max-registrations", "2")
    first = await loggedIn(server.port, "ann")
    await loggedIn(server.port, "bob")
    third = await connect(server.port)
    await third.expect("C HELLO chatroom 1 TCP")
    third.send("C LOGIN cat")
    await third.expect("C ERR RATE too many new accounts from your address; try in an hour")
    assert server.chat.roster.reserved == {}  # the name is not held
    # The session lives on: existing accounts still log in, from the same
    # address, on the same connection.
    third.send("C LOGIN cat")
    await third.expect("C ERR RATE too many new accounts from your address; try in an hour")
    first.send("C EX")
    await first.expect("C JOIN bob TCP", "C BYE EXIT")
    await first.waitClosed()
    third.send("C LOGIN ann", "C PASS secret")
    await third.expect("C PASSWORD EXISTING")
    assert (await third.next()).startswith("C WELCOME ann TCP ")
    third.close()
