"""
End to end: the installed C{twistd} and C{chatserver} commands, as users
run them, driven over real sockets.
"""

from __future__ import annotations

import signal
import subprocess

import pytest
from helpers.wire import BlockingClient, BlockingUDP, ServerProcess, installed, twistdServer


def test_twistd_help_lists_the_plugin(tmp_path):
    out = subprocess.run(
        [installed("twistd"), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    ).stdout
    assert "chatroom" in out
    options = subprocess.run(
        [installed("twistd"), "chatroom", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    for option in ["--port", "--interface", "--tcp", "--db", "--no-accounts", "--max-clients"]:
        assert option in options


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_twistd_serves_chat_and_shuts_down_cleanly(tmp_path, stop):
    server = twistdServer(tmp_path)
    try:
        port = server.ports["TCP"]
        alice, bob = BlockingClient(port), BlockingClient(port)
        alice.expect("C HELLO chatroom 1 TCP")
        alice.send("C LOGIN alice", "C PASS hunter2-alice")
        alice.expect(
            "C PASSWORD NEW", "C WELCOME alice TCP Welcome alice, you are connected via TCP."
        )
        bob.expect("C HELLO chatroom 1 TCP")
        bob.send("C LOGIN bob", "C PASS hunter2-bob")
        bob.expect("C PASSWORD NEW", "C WELCOME bob TCP Welcome bob, you are connected via TCP.")
        alice.expect("C JOIN bob TCP")
        carol = BlockingUDP(server.ports["UDP"])
        carol.send("C LOGIN carol", "C PASS hunter2-carol")
        carol.expect(
            "C HELLO chatroom 1 UDP",
            "C PASSWORD NEW",
            "C WELCOME carol UDP Welcome carol, you are connected via UDP.",
        )
        alice.expect("C JOIN carol UDP")
        bob.expect("C JOIN carol UDP")
        alice.send("C PM", "D Hello", "C DM", "D bob psst")
        alice.expect("C ACK PM", "C OK PM 2", "C USERS alice:TCP bob:TCP carol:UDP", "C OK DM bob")
        bob.expect("D PM alice TCP Hello", "D DM alice TCP psst")
        carol.expect("D PM alice TCP Hello")
        carol.send("C PM", "D hi from udp")
        carol.expect("C ACK PM", "C OK PM 2")
        alice.expect("D PM carol UDP hi from udp")
        bob.expect("D PM carol UDP hi from udp")
        bob.send("C EX")
        bob.expect("C BYE EXIT")
        alice.expect("C LEAVE bob TCP EXIT")
        carol.expect("C LEAVE bob TCP EXIT")
        server.waitForLog("bob [TCP] has left the chat.")

        server.stop(stop)
        alice.expect("C BYE SHUTDOWN")
        assert alice.atEOF()
        carol.expect("C BYE SHUTDOWN")
    finally:
        status = server.stop()
    log = server.log()
    # SIGTERM is a requested stop: exit 0 (systemd's stop is clean); SIGINT still kills.
    assert status == (0 if stop == signal.SIGTERM else -stop)
    assert "alice [TCP] has connected. Welcome!" in log
    assert "alice[TCP] : Hello" in log
    assert "carol [UDP] has connected. Welcome!" in log
    assert "carol[UDP] : hi from udp" in log
    assert "alice[TCP] sent a direct message to bob[TCP]" in log
    assert "psst" not in log  # direct messages are private
    assert "hunter2" not in log
    assert "Traceback" not in log
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("chat.sqlite*"))
    assert b"hunter2" not in raw and b"$argon2id$" in raw


def test_chatserver_short_form_and_restart_keeps_accounts(tmp_path):
    argv = [installed("chatserver"), "0", "--interface", "127.0.0.1", "--db", "chat.sqlite"]
    for expected in ["C PASSWORD NEW", "C PASSWORD EXISTING"]:
        server = ServerProcess(argv, tmp_path)
        try:
            client = BlockingClient(server.ports["TCP"])
            client.expect("C HELLO chatroom 1 TCP")
            client.send("C LOGIN dana", "C PASS pw", "C EX")
            client.expect(expected, "C WELCOME dana TCP Welcome dana, you are connected via TCP.")
            client.expect("C BYE EXIT")
        finally:
            assert server.stop() == 0
    assert not (tmp_path / "twistd.pid").exists()


def test_unusable_database_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [
            installed("twistd"),
            "-n",
            "--pidfile=",
            "chatroom",
            "--db",
            str(tmp_path / "no" / "x.sqlite"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    assert "cannot use --db" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
