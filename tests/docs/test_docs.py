"""
The documentation in docs/ builds with Sphinx, warnings as errors: a broken
link between pages, a table that does not parse or a page left out of the
table of contents fails here rather than on a reader's screen.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    """
    The same build as C{python -m sphinx -W -b html docs docs/_build/html},
    into a temporary directory so that the checkout stays clean.
    """
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(TOP / "docs"),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert (tmp_path / "html" / "index.html").exists()
    assert not (tmp_path / "html" / "screenshot.html").exists()


def test_readme_renders_without_warnings() -> None:
    """
    README.rst is the package's long description too (setup.cfg): a
    warning there shows its raw markup on the project's page.
    """
    build = subprocess.run(
        [sys.executable, "-m", "docutils", "--halt=warning", str(TOP / "README.rst"), os.devnull],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert build.returncode == 0, build.stdout + build.stderr
