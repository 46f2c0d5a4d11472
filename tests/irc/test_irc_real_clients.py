"""
Real IRC clients from Debian's packages, driven as a user would, chatting
with a C{chatclient} user through the IRC door of a real server: C{ii}
(files and FIFOs), irssi (in tmux, typed into, its screen read) and
weechat-headless (timed commands, its log read); and irssi with a browser
user on the real page and a chatclient user, all in one room.

Without the client these fail under CI (which installs them) and skip
elsewhere. Passwords never go on a command line: ii reads its from an
environment variable (C{-k}), WeeChat too (C{${env:...}}); irssi's
C{/connect} line is pasted into tmux from standard input.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.browser import (
    Room,
    logIn,
    needChromium,
    say,
    startChromium,
    text,
    waitFor,
    waitForText,
)
from helpers.system import need
from helpers.wire import ClientProcess, ServerProcess

WAIT = 15.0


def eventually(check: Callable[[], bool], what: str, show: Callable[[], str]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} never happened; seen:\n{show()}")


def chatclient(server: ServerProcess, name: str) -> ClientProcess:
    client = ClientProcess("127.0.0.1", str(server.ports["TCP"]), name)
    client.type("pw-" + name)
    client.waitFor("Operation [PM/DM/EX]")
    return client


@pytest.fixture
def ii(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    need(shutil.which("ii") is not None, "ii", "apt-get install ii")
    started: list[subprocess.Popen[bytes]] = []

    def start(port: int, nick: str, password: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "II_TEST_PASSWORD": password}
        argv = ["ii", "-s", "127.0.0.1", "-p", str(port), "-n", nick, "-i", str(tmp_path)]
        process = subprocess.Popen(
            [*argv, "-k", "II_TEST_PASSWORD", "-f", "ii user"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def writeFifo(path: Path, text: str) -> None:
    """
    Write to one of ii's FIFOs once ii has made it (ii reads them all).
    """
    deadline = time.monotonic() + WAIT
    while not path.exists():
        assert time.monotonic() < deadline, f"ii never made {path}"
        time.sleep(0.05)
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def test_ii_chats_with_chatclient(ircServer: ServerProcess, tmp_path: Path, ii) -> None:
    carl = chatclient(ircServer, "carl")
    try:
        ii(ircServer.ports["IRC"], "iris", "pw-iris")
        server = tmp_path / "127.0.0.1"
        out = server / "out"
        eventually(
            lambda: out.exists() and "End of /MOTD" in out.read_text("utf-8", "replace"),
            "ii's registration",
            lambda: out.read_text("utf-8", "replace") if out.exists() else "(no out file)",
        )
        carl.waitFor("iris [IRC] has joined")
        writeFifo(server / "in", "/j #chatroom\n")
        channel = server / "#chatroom"
        eventually(
            lambda: (channel / "in").exists(), "ii's channel", lambda: str(list(server.iterdir()))
        )
        carl.type("PM", "hello ii, çay?")
        chan = channel / "out"
        eventually(
            lambda: chan.exists() and "<carl> hello ii, çay?" in chan.read_text("utf-8"),
            "carl's message in ii",
            lambda: chan.read_text("utf-8") if chan.exists() else "(none)",
        )
        writeFifo(channel / "in", "hi carl, from ii\n")
        carl.waitFor("iris[IRC] : hi carl, from ii")
        writeFifo(server / "in", "/q\n")
        carl.waitFor("iris [IRC] has left")
    finally:
        carl.stop()


class Tmux:
    """
    One tmux server of our own (its own socket), one window.
    """

    def __init__(self, directory: Path, *command: str) -> None:
        self.socket = str(directory / "tmux.sock")
        self.run("new-session", "-d", "-s", "t", "-x", "180", "-y", "50", *command)

    def run(self, *args: str, input: bytes | None = None) -> str:
        result = subprocess.run(
            ["tmux", "-S", self.socket, *args], input=input, capture_output=True, timeout=WAIT
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.decode("utf-8", "replace")

    def type(self, text: str) -> None:
        """
        Paste C{text} (from standard input, never a command line), then Enter.
        """
        self.run("load-buffer", "-b", "typed", "-", input=text.encode("utf-8"))
        self.run("paste-buffer", "-d", "-b", "typed", "-t", "t")
        self.run("send-keys", "-t", "t", "Enter")

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-J", "-S", "-200", "-t", "t")

    def stop(self) -> None:
        subprocess.run(
            ["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=WAIT
        )


def test_irssi_chats_with_chatclient(ircServer: ServerProcess, tmp_path: Path) -> None:
    need(shutil.which("tmux") is not None, "tmux", "apt-get install tmux")
    need(shutil.which("irssi") is not None, "irssi", "apt-get install irssi")
    dora = chatclient(ircServer, "dora")
    home = tmp_path / "irssi"
    home.mkdir()
    tmux = Tmux(tmp_path, "irssi", f"--home={home}", "-n", "irene")
    try:
        eventually(lambda: "Irssi" in tmux.screen(), "irssi's start", tmux.screen)
        tmux.type(f"/connect 127.0.0.1 {ircServer.ports['IRC']} pw-irene irene")
        dora.waitFor("irene [IRC] has joined")
        tmux.type("/join #chatroom")
        eventually(lambda: "Total of" in tmux.screen(), "irssi's join", tmux.screen)
        dora.type("PM", "hello irssi")
        eventually(lambda: "hello irssi" in tmux.screen(), "dora's message in irssi", tmux.screen)
        tmux.type("hi dora, from irssi")
        dora.waitFor("irene[IRC] : hi dora, from irssi")
        tmux.type("/quit bye now")
        dora.waitFor("irene [IRC] has left")
    finally:
        tmux.stop()
        dora.stop()


def test_weechat_chats_with_chatclient(ircServer: ServerProcess, tmp_path: Path) -> None:
    """
    weechat-headless (no screen, no FIFO plugin in Debian's package: its
    commands are given at start, timed with /wait), its channel read from
    its log. The password stays in the environment: the command and the
    saved configuration hold only C{${env:...}}.
    """
    need(
        shutil.which("weechat-headless") is not None,
        "weechat-headless",
        "apt-get install weechat-headless",
    )
    cleo = chatclient(ircServer, "cleo")
    home = tmp_path / "weechat"
    home.mkdir()
    port = ircServer.ports["IRC"]
    commands = ";".join(
        [
            "/set logger.file.flush_delay 0",
            f"/server add chat 127.0.0.1/{port} -notls -nicks=wendy"
            " -password=${raw:${env:WEECHAT_TEST_PASSWORD}}",
            "/connect chat",
            "/wait 2 /join -server chat #chatroom",
            "/wait 6 /msg -server chat #chatroom hello from weechat",
            "/wait 12 /quit",
        ]
    )
    env = {**os.environ, "WEECHAT_TEST_PASSWORD": "pw-wendy"}
    process = subprocess.Popen(
        ["weechat-headless", "--dir", str(home), "-r", commands],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        log = home / "logs" / "irc.chat.#chatroom.weechatlog"
        read = lambda: log.read_text("utf-8") if log.exists() else "(no log)"  # noqa: E731
        eventually(lambda: "has joined #chatroom" in read(), "weechat's join", read)
        cleo.type("PM", "hello weechat")
        eventually(lambda: "cleo\thello weechat" in read(), "cleo's message in weechat", read)
        cleo.waitFor("wendy[IRC] : hello from weechat")
        cleo.waitFor("wendy [IRC] has left")
        assert process.wait(timeout=WAIT) == 0
        assert "pw-wendy" not in (home / "irc.conf").read_text("utf-8")
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=5)
        cleo.stop()


def test_irssi_the_page_and_chatclient_in_one_room(tmp_path: Path) -> None:
    """
    The issue's end: an irssi user, a browser user (the real page in
    headless Chromium) and a chatclient user in one room, each hearing the
    other two.
    """
    need(shutil.which("tmux") is not None, "tmux", "apt-get install tmux")
    need(shutil.which("irssi") is not None, "irssi", "apt-get install irssi")
    needChromium()
    directory = tmp_path / "room"
    directory.mkdir()
    room = Room(directory, "--irc=tcp:0:interface=127.0.0.1", "--irc-server-name=irc.test")
    assert room.server is not None
    driver = startChromium()
    dora = chatclient(room.server, "dora")
    home = tmp_path / "irssi"
    home.mkdir()
    tmux = Tmux(tmp_path, "irssi", f"--home={home}", "-n", "irene")
    try:
        logIn(driver, room.url, "wendy", "pw-wendy", new=True)
        dora.waitFor("wendy [WEB] has joined")
        eventually(lambda: "Irssi" in tmux.screen(), "irssi's start", tmux.screen)
        tmux.type(f"/connect 127.0.0.1 {room.server.ports['IRC']} pw-irene irene")
        dora.waitFor("irene [IRC] has joined")
        waitForText(driver, "#users", "irene (IRC)")
        tmux.type("/join #chatroom")
        eventually(lambda: "Total of" in tmux.screen(), "irssi's join", tmux.screen)
        say(driver, "hello from the page")
        eventually(lambda: "hello from the page" in tmux.screen(), "the page in irssi", tmux.screen)
        dora.waitFor("wendy[WEB] : hello from the page")
        tmux.type("hi all, from irssi")
        dora.waitFor("irene[IRC] : hi all, from irssi")
        waitForText(driver, "#conversation", "hi all, from irssi")
        dora.type("PM", "and from the terminal")
        eventually(
            lambda: "and from the terminal" in tmux.screen(), "chatclient in irssi", tmux.screen
        )
        waitForText(driver, "#conversation", "and from the terminal")
        tmux.type("/quit bye now")
        dora.waitFor("irene [IRC] has left")
        waitFor(driver, lambda d: "irene (IRC)" not in text(d, "#users"), "irene gone")
    finally:
        tmux.stop()
        dora.stop()
        driver.quit()
        room.stop()
