"""
The help, version and option errors of the installed C{chatserver} and C{twistd chatroom}, as
a user meets them: real processes.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from helpers.wire import installed

import chatroom

COMMANDS = {"chatserver": ["chatserver"], "twistd": ["twistd", "chatroom"]}


def _run(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [installed(argv[0]), *argv[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_spaced_as_written(tmp_path, command):
    result = _run(tmp_path, *COMMANDS[command], "--help")
    assert result.returncode == 0, result.stderr
    help = result.stdout
    # The column after each option's name aside, no run of spaces inside a sentence.
    for line in help.splitlines():
        text = re.sub(r"^(-\w, )?--[\w-]+=?\s+", "", line.strip())
        assert not re.search(r"\S {2,}\S", text), line
    assert "whose pages may use the WebSocket" in re.sub(r"\s*\n\s*", " ", help)
    assert "[default: ]" not in help
    assert "--interface=" in help


@pytest.mark.parametrize("command", COMMANDS)
def test_version_is_chatroom_s(tmp_path, command):
    result = _run(tmp_path, *COMMANDS[command], "--version")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"chatroom {chatroom.__version__}"), result.stdout
    assert "Twisted version:" not in result.stdout


def test_chatserver_help_says_port_is_optional(tmp_path):
    help = _run(tmp_path, "chatserver", "--help").stdout
    assert help.startswith("Usage: chatserver [PORT] [options]\n")
    assert "Without PORT, --port" in " ".join(help.split())


@pytest.mark.parametrize("command", COMMANDS)
def test_help_points_to_a_protocol_file_that_is_there(tmp_path, command):
    help = " ".join(_run(tmp_path, *COMMANDS[command], "--help").stdout.split())
    match = re.search(r"The protocol is in (\S+?)\.? ", help + " ")
    assert match, help
    path = Path(match.group(1))
    assert path.is_absolute() and path.is_file(), path
    assert "PROTOCOL" in path.read_text("utf-8").upper()


def test_twistd_option_error_is_one_line_and_a_hint(tmp_path):
    result = _run(tmp_path, "twistd", "-n", "--pidfile=", "chatroom", "--no-such-option")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "twistd chatroom: option --no-such-option not recognized",
        "Usage: twistd [options] chatroom [options] (twistd chatroom --help lists them)",
    ]
    result = _run(tmp_path, "twistd", "-n", "--pidfile=", "chatroom", "--interface", "nowhere")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines()[0] == (
        "twistd chatroom: --interface 'nowhere' is not an IP address (such as 127.0.0.1 or ::)"
    )
    assert len(result.stderr.splitlines()) == 2
    assert list(tmp_path.iterdir()) == []
