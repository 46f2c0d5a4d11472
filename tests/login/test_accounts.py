"""
Logging in through twisted.cred, against a real SQLite file.
"""

from __future__ import annotations

import sqlite3

import pytest
import pytest_twisted
from argon2 import PasswordHasher
from twisted.cred.error import UnauthorizedLogin

from chatroom.accounts import Accounts, AlreadyRegistered, Registration
from chatroom.passwords import Passwords
from chatroom.sqlitestore import AccountStore


@pytest_twisted.async_yield_fixture
async def accounts(tmp_path, passwords):
    from twisted.internet import reactor

    store = AccountStore(reactor, str(tmp_path / "db.sqlite"))
    await store.open()
    yield Accounts(store, passwords)
    await store.close()


@pytest_twisted.ensureDeferred
async def test_register_then_log_in(accounts):
    assert await accounts.isRegistered("Zoë") is False
    assert await accounts.register("Zoë", "pässword") == "Zoë"
    assert await accounts.isRegistered("ZOË") is True
    assert await accounts.login("zoë", "pässword") == "Zoë"
    with pytest.raises(UnauthorizedLogin):
        await accounts.login("Zoë", "password")
    with pytest.raises(UnauthorizedLogin):
        await accounts.login("nobody", "pässword")
    with pytest.raises(AlreadyRegistered):
        await accounts.register("zoë", "another")


@pytest_twisted.ensureDeferred
async def test_only_a_salted_hash_is_stored(accounts):
    await accounts.register("a", "same password")
    await accounts.register("b", "same password")
    a = await accounts.store.lookup("a")
    b = await accounts.store.lookup("b")
    assert a.passwordHash.startswith("$argon2id$")
    assert a.passwordHash != b.passwordHash
    assert "same password" not in a.passwordHash
    assert "same password" not in repr(Registration("a", "same password"))


@pytest_twisted.ensureDeferred
async def test_raised_parameters_rehash_at_next_login(accounts, tmp_path):
    await accounts.register("old", "pw")
    before = (await accounts.store.lookup("old")).passwordHash
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=512, parallelism=1))
    upgraded = Accounts(accounts.store, stronger, runInThread=_inline)
    assert await upgraded.login("old", "pw") == "old"
    # The new hash is written after the login, beside it: wait for it.
    after = await _changed(accounts.store, "old", before)
    assert after != before and "t=2" in after and "m=512" in after
    assert await upgraded.login("old", "pw") == "old"


@pytest_twisted.ensureDeferred
async def test_a_rehash_that_cannot_be_written_does_not_fail_the_login(tmp_path, passwords):
    """
    Another program holds the database's lock: the login still succeeds,
    and the old hash (still valid) stays until a later login.
    """
    from twisted.internet import reactor

    path = str(tmp_path / "db.sqlite")
    store = AccountStore(reactor, path, busyTimeout=0.2)
    await store.open()
    try:
        await Accounts(store, passwords).register("old", "pw")
        before = (await store.lookup("old")).passwordHash
        stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=512, parallelism=1))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            assert await Accounts(store, stronger).login("old", "pw") == "old"
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert (await store.lookup("old")).passwordHash == before
    finally:
        await store.close()


async def _changed(store, nameKey, before):
    """
    The account's hash once it differs from C{before} (bounded wait).
    """
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    for _ in range(200):
        now = (await store.lookup(nameKey)).passwordHash
        if now != before:
            return now
        await deferLater(reactor, 0.05)
    return now


def _inline(f, *args):
    from twisted.internet.defer import maybeDeferred

    return maybeDeferred(f, *args)


def test_credentials_never_show_their_password():
    """
    Credentials reach logs through reprs (a failure's traceback, say): the
    password must not come with them.
    """
    from chatroom.accounts import Registration, TextPassword

    for credentials in (TextPassword("bob", "hunter2"), Registration("ann", "hunter2")):
        assert "hunter2" not in repr(credentials) and "hunter2" not in str(credentials)
        assert credentials.password == "hunter2"
