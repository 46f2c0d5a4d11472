"""
The IRC options: off unless --irc, --no-irc wins (over a config file too),
the channel name checked, and help that lists them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.python import usage

from chatroom.options import Options


def parsed(*args: str) -> Options:
    options = Options()
    options.parseOptions(list(args))
    return options


def test_off_by_default() -> None:
    assert parsed().ircDescription() is None


def test_on_and_off() -> None:
    options = parsed("--irc", "tcp:6667", "--irc-channel", "#room", "--irc-server-name", "chat")
    assert options.ircDescription() == "tcp:6667"
    assert options["irc-channel"] == "#room" and options["irc-server-name"] == "chat"
    assert parsed("--irc", "tcp:6667", "--no-irc").ircDescription() is None


def test_config_file(tmp_path: Path) -> None:
    config = tmp_path / "chatroom.toml"
    config.write_text('irc = "tcp:6697"\nirc-channel = "#lobby"\n')
    options = parsed("--config", str(config))
    assert options.ircDescription() == "tcp:6697" and options["irc-channel"] == "#lobby"
    assert parsed("--config", str(config), "--no-irc").ircDescription() is None


@pytest.mark.parametrize("bad", ["chatroom", "#", "#a b", "#a,b", "#" + "x" * 64])
def test_bad_channel_names(bad: str) -> None:
    with pytest.raises(usage.UsageError, match="--irc-channel"):
        parsed("--irc-channel", bad)


def test_help_lists_them() -> None:
    text = str(Options())
    for option in ("--irc=", "--irc-channel=", "--irc-server-name=", "--no-irc"):
        assert option in text
