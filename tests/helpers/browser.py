"""
A real headless Chromium from the system's packages (Debian's chromium and
chromium-driver, installed by .ci/system-packages), driven by selenium, and
helpers that find the page's controls by their labels, as a person would.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers.wire import BlockingClient, ServerProcess, twistdServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

#: Seconds any wait for the page may take.
WAIT = 15.0

#: Seconds the page may take to come back after its server restarted: its
#: pauses between attempts double (1, 2, 4, 8 s...), and a loaded machine
#: may take several seconds to start the server.
RECONNECT_WAIT = 45.0


def needChromium() -> None:
    """
    Skip (with the reason) when Chromium is missing, except under CI, which must have it.
    """
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must have Chromium: {', '.join(missing)} missing (.ci/system-packages)")
    pytest.skip(f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)")


def startChromium(width: int = 1100, height: int = 800) -> Any:
    """
    A headless Chromium, through its own chromedriver; quit it when done.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT)
    return driver


def freePort() -> int:
    """
    A port free on 127.0.0.1 right now, for a server that must keep its port across a restart.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def byLabel(driver: Any, label: str) -> Any:
    """
    The control whose <label> reads C{label}.
    """
    from selenium.webdriver.common.by import By

    return driver.find_element(By.XPATH, f"//*[@id=//label[normalize-space()='{label}']/@for]")


def waitFor(driver: Any, condition: Callable[[Any], Any], what: str, wait: float = WAIT) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, wait, poll_frequency=0.05).until(condition)
    except TimeoutException:
        raise AssertionError(
            f"{what} never happened; the page says:\n{text(driver, 'body')}"
        ) from None


def text(driver: Any, selector: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector).text


def waitForText(driver: Any, selector: str, wanted: str, wait: float = WAIT) -> None:
    waitFor(driver, lambda d: wanted in text(d, selector), f"{wanted!r} in {selector}", wait)


def logIn(driver: Any, url: str, name: str, password: str, new: bool) -> None:
    """
    Open the page and log in by its form; a new name types its password twice.
    """
    driver.get(url)
    byLabel(driver, "Username").send_keys(name)
    byLabel(driver, "Password").send_keys(password + "\n")
    if new:
        again = byLabel(driver, "Password again")
        waitFor(driver, lambda d: again.is_displayed(), "the second password field")
        again.send_keys(password + "\n")
    waitForText(driver, "#status", f"Connected as {name}.")


#: The CSS selector of the conversation with one person (format it with the name).
DM_LOG = "ol[aria-label='Direct messages with {}']"


def openConversation(driver: Any, name: str) -> None:
    """
    Show the conversation C{name} ("Room", or a person's name) from the list of conversations.
    """
    from selenium.webdriver.common.by import By

    title = "Room" if name == "Room" else f"Direct messages with {name}"
    for button in driver.find_elements(By.CSS_SELECTOR, "#conversations button"):
        if button.text.split()[0] == name:
            button.click()
            waitFor(driver, lambda d: text(d, "#conversation-title") == title, title)
            return
    raise AssertionError(f"no conversation {name!r}: {text(driver, '#conversations')}")


def unread(driver: Any) -> dict[str, int]:
    """
    The unread counts of the list of conversations, by name ("Room" or a person's).
    """
    return dict(
        driver.execute_script(
            "return [...document.querySelectorAll('#conversations button')].map((b) =>"
            " [b.dataset.key === '' ? 'Room' : b.firstChild.textContent,"
            "  Number((b.querySelector('.badge') || {textContent: 0}).textContent)]);"
        )
    )


def say(driver: Any, line: str) -> None:
    """
    Type a line in the message box and press Enter.
    """
    box = byLabel(driver, "Message")
    box.send_keys(line + "\n")


def expectFrame(client: BlockingClient, prefix: str, limit: int = 50) -> str:
    """
    The first frame starting with C{prefix}, skipping others (JOINs, OKs...).
    """
    for _ in range(limit):
        frame = client.next()
        if frame.startswith(prefix):
            return frame
    raise AssertionError(f"no frame starting {prefix!r}")


class Room:
    """
    A C{twistd chatroom} process with its web listener on a fixed port (the
    browser reconnects to the same URL after a restart), its SQLite database
    C{chat.sqlite} in C{directory}.
    """

    def __init__(self, directory: Path, *options: str) -> None:
        self.directory = directory
        self.options = options
        self.webPort = freePort()
        self.server: ServerProcess | None = None
        self.start()

    def start(self) -> None:
        self.server = twistdServer(
            self.directory,
            "--no-udp",
            f"--web=tcp:{self.webPort}:interface=127.0.0.1",
            *self.options,
        )

    @property
    def database(self) -> Path:
        return self.directory / "chat.sqlite"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.webPort}/"

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.ports["TCP"]

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
