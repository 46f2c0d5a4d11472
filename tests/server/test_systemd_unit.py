"""
contrib/chatroom.service is a unit systemd accepts: C{systemd-analyze verify}
reads it as systemd would (sections, keys, the hardening options).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers.wire import installed

UNIT = Path(__file__).parents[2] / "contrib" / "chatroom.service"


def test_the_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have systemd-analyze (Debian's systemd package)")
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    text = UNIT.read_text()
    for setting in [
        "DynamicUser=yes",
        "StateDirectory=chatroom",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
    ]:
        assert f"\n{setting}\n" in text
    assert "chatroom --config /etc/chatroom/chatroom.toml" in text
    # verify checks that ExecStart's program exists: point it at this tree's twistd.
    unit = tmp_path / "chatroom.service"
    unit.write_text(text.replace("/opt/chatroom/bin/twistd", installed("twistd")))
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "", result.stderr
