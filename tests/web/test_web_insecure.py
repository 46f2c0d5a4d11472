"""
The page served over plain http by a server that takes no password in
clear (C{--plaintext-logins nowhere}): the real headless Chromium against a
C{twistd chatroom} process is told, in the page's words, to use https, and
the password leaves the form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.browser import Room, byLabel, text, waitForText


def test_the_page_over_http_says_to_use_https(chromium: Any, tmp_path: Path) -> None:
    room = Room(tmp_path, "--plaintext-logins=nowhere")
    try:
        chromium.get(room.url)
        byLabel(chromium, "Username").send_keys("wendy")
        byLabel(chromium, "Password").send_keys("secret\n")
        waitForText(
            chromium,
            "#login-error",
            "This server takes passwords only over an encrypted connection",
        )
        assert "https" in text(chromium, "#login-error")
        assert byLabel(chromium, "Password").get_attribute("value") == ""
        assert "Connected as" not in text(chromium, "#status")
        assert room.server is not None and "wendy[WEB]" not in room.server.log()
    finally:
        room.stop()
