"""
The benchmark after README's plain install (C{pip install .}: no C{cluster} extra, so no
txredisapi nor psycopg): what cannot run is skipped, saying why in one line, and its
C{--help} is plain text. Real C{python -m chatroom.bench} processes, on a Python path that
holds everything this environment has but the extra's packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def plainPath(tmp_path: Path) -> str:
    """
    A directory standing for a plain install's site-packages: links to every package here
    but the cluster extra's.
    """
    site = tmp_path / "site"
    site.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.lower().startswith(("txredisapi", "psycopg")):
            continue
        (site / entry.name).symlink_to(entry)
    return os.pathsep.join([str(ROOT), str(site)])


def _bench(pythonPath: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # -S: not the environment's own site-packages, only the plain one above.
    return subprocess.run(
        [sys.executable, "-S", "-m", "chatroom.bench", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": pythonPath},
    )


def test_the_path_really_lacks_the_cluster_extra(plainPath, tmp_path):
    probe = subprocess.run(
        [sys.executable, "-S", "-c", "import txredisapi"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": plainPath},
    )
    assert probe.returncode == 1 and "No module named 'txredisapi'" in probe.stderr


def test_cluster_is_skipped_in_one_line_without_the_extra(plainPath, tmp_path):
    result = _bench(plainPath, tmp_path, "--quick", "--only", "cluster")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert "Traceback" not in result.stdout and "Usage:" not in result.stdout
    skipped = [line for line in result.stdout.splitlines() if "SKIPPED" in line]
    assert skipped == [
        "cluster: SKIPPED: txredisapi is not installed (pip install 'chatroom[cluster]')"
    ]


def test_help_shows_no_epytext_markup(plainPath, tmp_path):
    result = _bench(plainPath, tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert "paced05 and curve run Debian's ngIRCd (/usr/sbin/ngircd)" in result.stdout
    for markup in ("C{", "L{", "I{", "B{"):
        assert markup not in result.stdout
