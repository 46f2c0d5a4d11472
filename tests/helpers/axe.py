"""
axe-core, the accessibility checker (the npm package), run inside the real
Chromium. It is fetched with C{npm pack} into a cache outside the checkout
(nothing of it is vendored into git); without npm or the network the tests
skip, except under CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any, NoReturn

import pytest

VERSION = "4.10.3"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "chatroom-tests"

#: Impacts that fail a test: axe's "serious" and "critical".
FAILING = ("serious", "critical")


def _missing(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run axe-core {VERSION}: {reason}")
    pytest.skip(f"axe-core {VERSION} unavailable: {reason}")


def axeSource() -> str:
    """
    The text of axe.min.js, fetched once into the cache.
    """
    script = CACHE / f"axe-core-{VERSION}" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            _missing("npm is not installed")
        CACHE.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                [npm, "pack", f"axe-core@{VERSION}", "--silent"],
                cwd=CACHE,
                check=True,
                capture_output=True,
                timeout=180,
            )
        except (subprocess.SubprocessError, OSError) as error:
            _missing(f"npm pack failed: {error}")
        with tarfile.open(CACHE / f"axe-core-{VERSION}.tgz") as archive:
            member = archive.extractfile("package/axe.min.js")
            if member is None:
                _missing("the package holds no axe.min.js")
            data = member.read()
        script.parent.mkdir(exist_ok=True)
        script.write_bytes(data)
    return script.read_text(encoding="utf-8")


def violations(driver: Any) -> list[dict[str, Any]]:
    """
    axe's serious and critical violations of the page as it is now.
    """
    if not driver.execute_script("return typeof window.axe === 'object';"):
        driver.execute_script(axeSource())
    found = driver.execute_async_script(
        """
        const done = arguments[0];
        axe.run(document, {resultTypes: ["violations"]}).then(
          (result) => done(result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary)}))),
          (error) => done([{id: "axe-error", impact: "critical", help: String(error),
                            nodes: []}]));
        """
    )
    return [v for v in found if v["impact"] in FAILING]
