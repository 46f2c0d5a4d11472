"""
Logging in through twisted.cred, against a real SQLite file.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from argon2 import PasswordHasher
from twisted.cred.error import UnauthorizedLogin

from chatroom.accounts import Accounts, AlreadyRegistered, Registration
from chatroom.passwords import Passwords
from chatroom.store import AccountStore


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
    after = (await accounts.store.lookup("old")).passwordHash
    assert after != before and "t=2" in after and "m=512" in after
    assert await upgraded.login("old", "pw") == "old"


def _inline(f, *args):
    from twisted.internet.defer import maybeDeferred

    return maybeDeferred(f, *args)
