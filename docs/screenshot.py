"""
Takes the page's pictures in docs/: a real headless Chromium, a browser
user chatting with TCP users on a throw-away server, in light and dark
colours (the system's prefers-color-scheme), on a desktop and on a phone:
web-desktop-light.png, web-desktop-dark.png, web-phone-light.png and
web-phone-dark.png.

    .venv/bin/python docs/screenshot.py [DIRECTORY]

Needs the test extra (selenium) and Debian's chromium and chromium-driver
(.ci/system-packages installs them). Everything runs on 127.0.0.1, in a
temporary directory; the server is stopped by its own PID.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers.browser import byLabel, logIn, openConversation, say, startChromium, waitForText

from chatroom.bench.serverprocess import (
    LOG_NAME,
    START_TIMEOUT,
    ServerLog,
    expectedListeners,
    twistdArgv,
)

SIZE = (1100, 680)
#: A phone: its CSS pixels and how many device pixels each one is.
PHONE = {"width": 375, "height": 720, "deviceScaleFactor": 1, "mobile": True}
OUTPUT = Path(__file__).resolve().parent


class Line:
    """
    A TCP user, by hand over a plain socket.
    """

    def __init__(self, port: int, name: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")
        self.send(f"C LOGIN {name}", "C PASS a long passphrase")

    def send(self, *frames: str) -> None:
        self.sock.sendall(b"".join(f.encode() + b"\n" for f in frames))

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def shoot(driver: Any, path: Path) -> None:
    """
    The page as it is now, once the layout settled, to C{path}.
    """
    driver.execute_async_script("requestAnimationFrame(() => setTimeout(arguments[0], 100));")
    driver.save_screenshot(str(path))
    print(f"wrote {path}")


def main(output: Path = OUTPUT) -> None:
    with tempfile.TemporaryDirectory() as directory:
        argv = twistdArgv("--db=chat.sqlite", "--no-udp")
        log = ServerLog(Path(directory) / LOG_NAME, expectedListeners(argv))
        with log.create() as out:
            server = subprocess.Popen(argv, cwd=directory, stdout=out, stderr=subprocess.STDOUT)
        driver = None
        users: list[Line] = []
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not log.scan():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise log.notStarted("see its log")
                time.sleep(0.05)
            url = f"http://127.0.0.1:{log.ports['WEB']}/"
            users = [Line(log.ports["TCP"], "Gökhan"), Line(log.ports["TCP"], "Алиса")]
            driver = startChromium(*SIZE)
            logIn(driver, url, "wendy", "a long passphrase", new=True)
            users[0].send("C PM", "D Hi @wendy, welcome! The notes: https://example.org/notes")
            waitForText(driver, "#conversation", "welcome!")
            say(driver, "Thanks! Chatting from a browser, no install needed.")
            users[1].send("C DM", "D wendy see you at five?")
            waitForText(driver, "#conversations", "Алиса")
            openConversation(driver, "Алиса")
            say(driver, "yes, at five")
            waitForText(driver, "#conversation-title", "Алиса")
            openConversation(driver, "Room")
            users[1].send("C DM", "D wendy bring the slides")
            users[0].send("C PM", "D Shift+Enter makes a new line, by the way")
            waitForText(driver, "#conversation", "by the way")
            byLabel(driver, "Message").send_keys("typing…")
            for colours in ("light", "dark"):
                driver.execute_cdp_cmd(
                    "Emulation.setEmulatedMedia",
                    {"features": [{"name": "prefers-color-scheme", "value": colours}]},
                )
                driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
                shoot(driver, output / f"web-desktop-{colours}.png")
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
                shoot(driver, output / f"web-phone-{colours}.png")
        finally:
            for user in users:
                user.close()
            if driver is not None:
                driver.quit()
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)
