"""
L{chatroom.client.trust} without a network: the known-servers file (where
it lives, its keys, mode 600, atomic rewrites, lines it cannot read) and
L{decide}, the judgement of a certificate from its facts.
"""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from chatroom.client.trust import (
    Facts,
    KnownServers,
    Verdict,
    decide,
    defaultPath,
    normalHost,
)

A = "SHA256:" + ":".join(["AA"] * 32)
B = "SHA256:" + ":".join(["BB"] * 32)


def test_where_the_file_lives(tmp_path: Path) -> None:
    assert defaultPath({"XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "chatroom" / "known-servers"
    )
    home = Path.home() / ".config" / "chatroom" / "known-servers"
    assert defaultPath({}) == home
    assert defaultPath({"XDG_CONFIG_HOME": ""}) == home
    assert defaultPath({"XDG_CONFIG_HOME": "relative/dir"}) == home  # the spec: ignored


@pytest.mark.parametrize(
    "typed, key",
    [
        ("Chat.Example.ORG", "chat.example.org"),
        ("chat.example.org.", "chat.example.org"),
        ("[::1]", "::1"),
        ("0:0::1", "::1"),
        ("127.0.0.1", "127.0.0.1"),
    ],
)
def test_hosts_are_kept_under_one_spelling(typed: str, key: str) -> None:
    assert normalHost(typed) == key


def test_remember_and_look_up(tmp_path: Path) -> None:
    known = KnownServers(tmp_path / "config" / "chatroom" / "known-servers")
    assert known.lookup("localhost", 9443) is None
    known.remember("LocalHost", 9443, A.removeprefix("SHA256:").lower())
    known.remember("localhost", 9444, B)
    path = known.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    lines = path.read_text().splitlines()
    assert lines[0].startswith("#") and lines[-2:] == [f"localhost 9443 {A}", f"localhost 9444 {B}"]
    first = known.lookup("localhost", 9443)
    assert first is not None and first.fingerprint == A and first.line == 3
    second = known.lookup("LOCALHOST", 9444)
    assert second is not None and second.fingerprint == B
    assert known.lookup("localhost", 9445) is None
    assert known.lookup("127.0.0.1", 9443) is None  # another host, as SSH keeps them
    assert sorted(os.listdir(path.parent)) == ["known-servers"]  # no temporary file left


def test_lines_it_cannot_read_are_skipped_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "known-servers"
    path.write_text(f"garbage\nlocalhost notaport {A}\nlocalhost 1 SHA256:12\n# localhost 2 {A}\n")
    path.chmod(0o644)
    known = KnownServers(path)
    assert known.lookup("localhost", 1) is None and known.lookup("localhost", 2) is None
    known.remember("localhost", 2, B)
    lines = path.read_text().splitlines()
    assert lines[:4] == [
        "garbage",
        f"localhost notaport {A}",
        "localhost 1 SHA256:12",
        f"# localhost 2 {A}",
    ]
    entry = known.lookup("localhost", 2)
    assert entry is not None and entry.fingerprint == B and entry.line == 5
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # rewritten narrower


def test_a_failed_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    The disk fills up while the new file is written: the old one stays
    whole, and the half-written one is removed.
    """
    path = tmp_path / "known-servers"
    known = KnownServers(path)
    known.remember("localhost", 1, A)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        known.remember("localhost", 2, B)
    assert path.read_text().splitlines()[-1] == f"localhost 1 {A}"
    assert sorted(os.listdir(tmp_path)) == ["known-servers"]


def _known(tmp_path: Path, *entries: tuple[str, int, str]) -> KnownServers:
    known = KnownServers(tmp_path / "known-servers")
    for host, port, offered in entries:
        known.remember(host, port, offered)
    return known


def test_an_authority_for_this_name_is_enough(tmp_path: Path) -> None:
    known = _known(tmp_path, ("h", 1, B))  # even a different known one does not matter
    assert decide("h", 1, Facts(A, True, True), known).verdict is Verdict.TRUSTED


@pytest.mark.parametrize("signed, named", [(False, True), (True, False), (False, False)])
def test_otherwise_the_fingerprint_decides(tmp_path: Path, signed: bool, named: bool) -> None:
    facts = Facts(A, signed, named)
    empty = _known(tmp_path)
    assert decide("h", 1, facts, empty).verdict is Verdict.UNKNOWN
    asked = decide("h", 1, facts, empty, canAsk=True)
    assert asked.verdict is Verdict.ASK and asked.offered == A
    assert asked.otherName is (signed and not named)
    same = _known(tmp_path / "same", ("h", 1, A))
    assert decide("h", 1, facts, same, canAsk=True).verdict is Verdict.TRUSTED
    changed = _known(tmp_path / "changed", ("h", 1, B))
    decision = decide("h", 1, facts, changed, canAsk=True)  # never asked
    assert decision.verdict is Verdict.CHANGED
    assert decision.known == B and decision.offered == A
    assert decision.entry is not None and decision.entry.line == 3
    assert decide("h", 2, facts, changed).verdict is Verdict.UNKNOWN  # another port
    pinned = decide("h", 1, facts, empty, pinned=A.lower())
    assert pinned.verdict is Verdict.TRUSTED
    wrong = decide("h", 1, facts, same, pinned=B, canAsk=True)
    assert wrong.verdict is Verdict.MISMATCH and wrong.known == B


def test_no_certificate_is_never_trusted(tmp_path: Path) -> None:
    decision = decide("h", 1, Facts(None, True, True), _known(tmp_path), canAsk=True)
    assert decision.verdict is Verdict.UNKNOWN and decision.offered == ""


def test_clients_remembering_at_once_lose_no_line(tmp_path: Path) -> None:
    """
    Several clients trusting servers at the same moment: every line stays
    (each rewrite holds the directory's lock while it reads and replaces).
    """
    path = tmp_path / "config" / "known-servers"
    ports = range(1, 25)
    with ThreadPoolExecutor(max_workers=8) as pool:
        done = list(pool.map(lambda port: KnownServers(path).remember("h", port, A), ports))
    assert len(done) == len(ports)
    known = KnownServers(path)
    assert all(known.lookup("h", port) is not None for port in ports)
    assert len(path.read_text().splitlines()) == 2 + len(ports)
