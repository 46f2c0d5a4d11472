"""
C{chatroom-admin accounts create} and C{reset-password} as real processes,
on an SQLite file and on PostgreSQL: the password from a pipe, from a file,
or typed twice at a pseudo-terminal, hashed with the server's own argon2id
parameters; the name rules of registration; one-line mistakes (exit 1) and
misuse (exit 2).
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect
import psycopg
from helpers.admin import RUN_TIMEOUT, freshPostgres, oneMistake, rows
from helpers.locker import Locker
from helpers.wire import installed

from chatroom.database import isURL
from chatroom.passwords import OWASP, Passwords

Admin = Callable[..., subprocess.CompletedProcess[str]]


def storedHash(db: str, key: str) -> str:
    [(hashed,)] = rows(db, f"SELECT password_hash FROM accounts WHERE name_key = '{key}'")
    return str(hashed)


def test_create_from_a_pipe_with_the_servers_hashing(admin: Admin, db: str) -> None:
    result = admin("--db", db, "accounts", "create", "Gökhan", input="café au lait\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "created account Gökhan (user)\n"
    assert "made a new database" in result.stderr
    hashed = storedHash(db, "gökhan")
    assert hashed.startswith("$argon2id$")
    assert not OWASP.check_needs_rehash(hashed)  # the server's own parameters
    passwords = Passwords()
    # Prepared as the server prepares it (PRECIS): decomposed é is the same password.
    assert passwords.verify(hashed, "cafe\u0301 au lait".replace("e\u0301", "é"))
    assert not passwords.verify(hashed, "café au lait\n")


def test_reset_password_from_a_file(admin: Admin, db: str, tmp_path: Path) -> None:
    assert admin("--db", db, "accounts", "create", "alice", input="old one\n").returncode == 0
    secret = tmp_path / "new-password"
    secret.write_text("new one\nignored second line\n")
    result = admin(
        "--db", db, "accounts", "reset-password", "ALICE", "--password-file", "new-password"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "new password set for alice\n"
    hashed = storedHash(db, "alice")
    assert Passwords().verify(hashed, "new one")
    assert not Passwords().verify(hashed, "old one")


def test_names_follow_the_registration_rules(admin: Admin, db: str) -> None:
    assert admin("--db", db, "accounts", "create", "cop", input="pw\n").returncode == 0
    oneMistake(
        admin("--db", db, "accounts", "create", "COP", input="pw\n"), "account named cop exists"
    )
    # All-Cyrillic сор looks like cop: refused as at login.
    oneMistake(
        admin("--db", db, "accounts", "create", "\u0441\u043e\u0440", input="pw\n"),
        "looks like the account cop",
    )
    # A Cyrillic а among Latin letters breaks the one-script rule.
    oneMistake(admin("--db", db, "accounts", "create", "\u0430lice", input="pw\n"), "one script")
    oneMistake(admin("--db", db, "accounts", "create", "@mod", input="pw\n"), "cannot register")
    assert rows(db, "SELECT name FROM accounts") == [("cop",)]


def test_bad_passwords_are_refused(admin: Admin, db: str, tmp_path: Path) -> None:
    oneMistake(admin("--db", db, "accounts", "create", "bob", input=""), "no password")
    oneMistake(admin("--db", db, "accounts", "create", "bob", input="\n"), "empty")
    oneMistake(admin("--db", db, "accounts", "create", "bob", input="x" * 257 + "\n"), "too long")
    oneMistake(
        admin("--db", db, "accounts", "create", "bob", "--password-file", "absent"),
        "cannot read --password-file absent",
    )
    if not isURL(db):  # a command that failed leaves no file it made
        assert not Path(db).exists()


def test_unknown_name(admin: Admin, db: str) -> None:
    assert admin("--db", db, "accounts", "create", "alice", input="pw\n").returncode == 0
    oneMistake(
        admin("--db", db, "accounts", "reset-password", "bob", input="pw\n"), "no account named bob"
    )


def test_no_password_on_the_command_line(admin: Admin, tmp_path: Path) -> None:
    result = admin("--db", "chat.sqlite", "accounts", "create", "bob", "--password", "hunter2")
    assert result.returncode == 2
    assert "unrecognized arguments: --password hunter2" in result.stderr
    assert not (tmp_path / "chat.sqlite").exists()
    helped = admin("accounts", "create", "--help")
    assert "--password-file" in helped.stdout
    assert "--password " not in helped.stdout.replace("--password-file", "")


def test_misuse_exits_2(admin: Admin) -> None:
    for words in (
        (),
        ("accounts",),
        ("accounts", "frob"),
        ("accounts", "create"),
        ("accounts", "role", "bob", "king"),
        ("--db", "a", "--config", "b", "accounts", "list"),
        ("audit", "--limit", "none"),
    ):
        result = admin(*words)
        assert result.returncode == 2, (words, result)
        assert "usage: chatroom-admin" in result.stderr
        assert "Traceback" not in result.stderr


def test_not_a_chatroom_database(admin: Admin, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n" * 100)
    oneMistake(
        admin("--db", "notes.txt", "accounts", "create", "bob", input="pw\n"),
        "notes.txt is not a chatroom database (not an SQLite file)",
    )
    assert (tmp_path / "notes.txt").read_text() == "hello\n" * 100
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as lite:
        lite.execute("CREATE TABLE recipes (name TEXT)")
    lite.close()
    oneMistake(
        admin("--db", "other.sqlite", "accounts", "create", "bob", input="pw\n"),
        "other.sqlite is not a chatroom database (it holds other tables)",
    )
    assert rows(str(other), "SELECT name FROM sqlite_master") == [("recipes",)]


def test_a_postgresql_database_of_someone_else(admin: Admin, postgres: Any) -> None:
    url = freshPostgres(postgres)
    with psycopg.connect(url) as pg:
        pg.execute("CREATE TABLE invoices (id INTEGER)")
    oneMistake(
        admin("--db", url, "accounts", "create", "bob", input="pw\n"),
        "is not a chatroom database (it holds other tables)",
    )
    tables = rows(
        url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    assert tables == [("invoices",)]


def test_a_missing_database_is_made_only_by_create(admin: Admin, tmp_path: Path) -> None:
    oneMistake(
        admin("--db", "absent.sqlite", "accounts", "reset-password", "bob", input="pw\n"),
        "no database at absent.sqlite",
    )
    assert not (tmp_path / "absent.sqlite").exists()
    oneMistake(
        admin("--db", "no/such/dir.sqlite", "accounts", "create", "bob", input="pw\n"),
        "no directory no/such",
    )


def test_config_file_names_the_database(admin: Admin, tmp_path: Path) -> None:
    (tmp_path / "chatroom.toml").write_text('port = 9000\ndb = "from-config.sqlite"\n')
    result = admin("--config", "chatroom.toml", "accounts", "create", "bob", input="pw\n")
    assert result.returncode == 0, result.stderr
    assert rows(str(tmp_path / "from-config.sqlite"), "SELECT name FROM accounts") == [("bob",)]
    oneMistake(
        admin("--config", "absent.toml", "accounts", "create", "x", input="pw\n"), "absent.toml"
    )
    (tmp_path / "bad.toml").write_text("db = 3\n")
    oneMistake(
        admin("--config", "bad.toml", "accounts", "create", "x", input="pw\n"), "bad.toml: key 'db'"
    )


def _prompted(tmp_path: Path, first: str, second: str) -> tuple[int, str]:
    """
    C{accounts create bob} at a pseudo-terminal, C{first} and C{second}
    typed at its two prompts; its status and all it showed.
    """
    child = pexpect.spawn(
        installed("chatroom-admin"),
        ["--db", "chat.sqlite", "accounts", "create", "bob"],
        cwd=str(tmp_path),
        timeout=RUN_TIMEOUT,
        encoding="utf-8",
    )
    child.expect("New password for bob: ")
    child.sendline(first)
    child.expect("The same password again: ")
    child.sendline(second)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None
    return child.exitstatus, str(child.before)


def test_a_terminal_asks_twice(tmp_path: Path) -> None:
    status, shown = _prompted(tmp_path, "typed twice", "typed twice")
    assert status == 0, shown
    assert "created account bob (user)" in shown
    assert "typed twice" not in shown  # never echoed
    assert Passwords().verify(storedHash(str(tmp_path / "chat.sqlite"), "bob"), "typed twice")


def test_a_terminal_refuses_two_different_passwords(tmp_path: Path) -> None:
    status, shown = _prompted(tmp_path, "one thing", "another")
    assert status == 1
    assert "the two passwords differ" in shown
    assert not (tmp_path / "chat.sqlite").exists()


def test_ctrl_c_at_the_prompt_ends_it(tmp_path: Path) -> None:
    child = pexpect.spawn(
        installed("chatroom-admin"),
        ["--db", "chat.sqlite", "accounts", "create", "bob"],
        cwd=str(tmp_path),
        timeout=RUN_TIMEOUT,
        encoding="utf-8",
    )
    child.expect("New password for bob: ")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert "no password given" in str(child.before)
    assert not (tmp_path / "chat.sqlite").exists()


def test_an_unknown_name_is_told_before_any_password_is_asked(admin: Admin, db: str) -> None:
    assert admin("--db", db, "accounts", "create", "alice", input="pw\n").returncode == 0
    # No line on standard input: had the password been asked for, this would say so.
    oneMistake(admin("--db", db, "accounts", "reset-password", "bob"), "no account named bob")
    oneMistake(admin("--db", db, "accounts", "create", "ALICE"), "exists already")


def test_an_unreachable_postgresql_is_one_line_without_its_password(admin: Admin) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    url = f"postgresql://chat:s3cretpw@127.0.0.1:{port}/chat"
    result = admin("--db", url, "accounts", "list")
    oneMistake(result, f"cannot use postgresql://chat:***@127.0.0.1:{port}/chat")
    assert "s3cretpw" not in result.stderr


def test_a_database_newer_than_this_chatroom(admin: Admin, tmp_path: Path) -> None:
    assert admin("--db", "chat.sqlite", "accounts", "create", "bob", input="pw\n").returncode == 0
    lite = sqlite3.connect(tmp_path / "chat.sqlite")
    with lite:
        lite.execute("UPDATE version SET version = 99")
    lite.close()
    oneMistake(admin("--db", "chat.sqlite", "accounts", "list"), "newer than this chatroom")


def test_a_locked_database_is_one_line(admin: Admin, tmp_path: Path) -> None:
    assert admin("--db", "chat.sqlite", "accounts", "create", "bob", input="pw\n").returncode == 0
    locker = Locker(str(tmp_path / "chat.sqlite"))
    try:
        result = admin("--db", "chat.sqlite", "--db-timeout", "0.5", "bans", "add", "bob", "1h")
        oneMistake(result, "chat.sqlite")
    finally:
        locker.release()
    assert rows(str(tmp_path / "chat.sqlite"), "SELECT count(*) FROM sanctions") == [(0,)]
    assert admin("--db", "chat.sqlite", "bans", "add", "bob", "1h").returncode == 0
