"""
C{chatroom-admin}'s schema v4 commands as real processes, on an SQLite file
and on PostgreSQL: roles, deleting (and erasing), bans and mutes, the
listings, and the audit records and change count every change leaves.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from helpers.admin import oneMistake, rows, write

Admin = Callable[..., subprocess.CompletedProcess[str]]

RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def changes(db: str) -> int:
    [(count,)] = rows(db, "SELECT changes FROM moderation")
    return int(count)


def withAccounts(admin: Admin, db: str, *accounts: str) -> None:
    for name in accounts:
        ok(admin("--db", db, "accounts", "create", name, input="pw\n"))


def test_first_admin_on_a_fresh_database(admin: Admin, db: str) -> None:
    assert ok(admin("--db", db, "accounts", "create", "Root", "--role", "admin", input="pw\n")) == (
        "created account Root (admin)\n"
    )
    assert rows(db, "SELECT name, role FROM accounts") == [("Root", "admin")]
    [line] = ok(admin("--db", db, "accounts", "list")).splitlines()
    assert re.fullmatch(r"Root  admin  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", line), line


def test_roles(admin: Admin, db: str) -> None:
    withAccounts(admin, db, "alice")
    before = changes(db)
    assert ok(admin("--db", db, "accounts", "role", "ALICE", "moderator")) == (
        "alice is now moderator (was user)\n"
    )
    assert rows(db, "SELECT role FROM accounts") == [("moderator",)]
    assert changes(db) == before + 1
    oneMistake(admin("--db", db, "accounts", "role", "bob", "admin"), "no account named bob")
    [record] = rows(db, "SELECT actor, action, target, reason FROM audit WHERE action = 'ROLE'")
    assert record == ("chatroom-admin", "ROLE", "alice", "moderator")


def test_bans_and_mutes(admin: Admin, db: str) -> None:
    withAccounts(admin, db, "alice", "bob", "carol")
    before = changes(db)
    started = int(time.time() * 1000)
    out = ok(admin("--db", db, "bans", "add", "Bob", "2h", "flooding", "the", "room"))
    assert re.fullmatch(rf"bob banned until {RFC3339}\n", out), out
    assert ok(admin("--db", db, "bans", "add", "carol", "forever", "--mute")) == (
        "carol muted forever\n"
    )
    assert changes(db) == before + 2
    [(until,)] = rows(db, "SELECT until_ms FROM sanctions WHERE kind = 'ban'")
    assert started + 2 * 3600_000 <= until <= int(time.time() * 1000) + 2 * 3600_000
    listed = ok(admin("--db", db, "bans", "list")).splitlines()
    assert len(listed) == 2
    assert re.fullmatch(rf"bob    BAN   chatroom-admin  {RFC3339}  flooding the room", listed[0])
    assert listed[1] == "carol  MUTE  chatroom-admin  forever"
    accounts = ok(admin("--db", db, "accounts", "list")).splitlines()
    assert [line.split()[0] for line in accounts] == ["alice", "bob", "carol"]
    assert re.search(rf"banned until {RFC3339}$", accounts[1])
    assert accounts[2].endswith("muted forever")
    # A new ban replaces the old one.
    ok(admin("--db", db, "bans", "add", "bob", "10m"))
    assert rows(db, "SELECT count(*) FROM sanctions WHERE kind = 'ban'") == [(1,)]

    oneMistake(admin("--db", db, "bans", "remove", "bob", "--mute"), "bob is not muted")
    assert ok(admin("--db", db, "bans", "remove", "BOB")) == "bob unbanned\n"
    assert ok(admin("--db", db, "bans", "remove", "carol", "--mute")) == "carol unmuted\n"
    assert ok(admin("--db", db, "bans", "list")) == ""
    oneMistake(admin("--db", db, "bans", "remove", "bob"), "bob is not banned")


def test_bad_durations_and_unknown_names(admin: Admin, db: str) -> None:
    withAccounts(admin, db, "alice")
    for word in ("10", "0m", "1w", "1.5h", "10M", "soon"):
        oneMistake(admin("--db", db, "bans", "add", "alice", word), "not a duration")
    oneMistake(admin("--db", db, "bans", "add", "nobody", "1h"), "no account named nobody")
    oneMistake(admin("--db", db, "accounts", "delete", "nobody"), "no account named nobody")
    assert rows(db, "SELECT count(*) FROM sanctions") == [(0,)]


def test_delete_and_erase(admin: Admin, db: str) -> None:
    withAccounts(admin, db, "alice", "bob")
    now = int(time.time() * 1000)
    said = [(now, "alice", "TCP", "hello from alice"), (now + 1, "bob", "TCP", "hi from bob")]
    for at, sender, transport, text in said:
        write(
            db,
            "INSERT INTO history (at, sender, transport, text) VALUES (?, ?, ?, ?)",
            (at, sender, transport, text),
        )
    ok(admin("--db", db, "bans", "add", "alice", "1d"))
    before = changes(db)
    assert ok(admin("--db", db, "accounts", "delete", "Alice")) == "deleted account alice\n"
    assert changes(db) == before + 1
    assert rows(db, "SELECT name FROM accounts") == [("bob",)]
    assert rows(db, "SELECT count(*) FROM sanctions") == [(0,)]
    assert len(rows(db, "SELECT text FROM history")) == 2  # kept without --erase
    out = ok(admin("--db", db, "accounts", "delete", "bob", "--erase"))
    assert out == "deleted account bob; erased its public history and direct messages\n"
    assert rows(db, "SELECT text FROM history") == [("hello from alice",)]


def test_every_change_is_audited(admin: Admin, db: str, tmp_path: Path) -> None:
    withAccounts(admin, db, "alice")
    (tmp_path / "pw").write_text("new\n")
    ok(admin("--db", db, "accounts", "reset-password", "alice", "--password-file", "pw"))
    ok(admin("--db", db, "accounts", "role", "alice", "moderator"))
    ok(admin("--db", db, "bans", "add", "alice", "1h", "why", "not", "--mute"))
    ok(admin("--db", db, "bans", "remove", "alice", "--mute"))
    ok(admin("--db", db, "accounts", "delete", "alice", "--erase"))
    lines = ok(admin("--db", db, "audit")).splitlines()
    actions = [line.split()[3] for line in lines]
    assert actions == ["DELETE", "UNMUTE", "MUTE", "ROLE", "PASSWORD", "CREATE"]
    assert all(line.split()[2] == "chatroom-admin" for line in lines)
    assert all(re.match(RFC3339, line) for line in lines)
    assert re.search(rf"MUTE +alice  {RFC3339}  why not$", lines[2]), lines[2]
    limited = ok(admin("--db", db, "audit", "--limit", "2")).splitlines()
    assert [line.split() for line in limited] == [line.split() for line in lines[:2]]
    stored = rows(db, "SELECT node, actor FROM audit")
    assert len(stored) == 6
    assert all(actor == "chatroom-admin" and node for node, actor in stored)
