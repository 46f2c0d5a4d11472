"""
C{--config FILE} (protocol 1.2, section 12): the options from a TOML file,
the command line winning; a mistake in the file stops the start in one line
naming the file and the key, with exit status 1, under C{twistd} and
C{chatserver} alike. The example file in contrib/ is one the server takes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers.wire import BlockingClient, ServerProcess, installed

from chatroom.options import Options
from chatroom.plaintext import PlaintextLogins

CONTRIB = Path(__file__).parents[2] / "contrib"


def _parsed(tmp_path: Path, text: str, *args: str) -> Options:
    config = tmp_path / "chatroom.toml"
    config.write_text(text)
    options = Options()
    options.parseOptions(["--config", str(config), *args])
    return options


def test_every_kind_of_value_is_taken(tmp_path: Path) -> None:
    options = _parsed(
        tmp_path,
        'port = 9001\nhistory = 7\nmsg-rate = 2.5\nweb = "tcp:8081"\nno-udp = true\n'
        'no-web = false\nweb-origin = ["https://a.example", "https://b.example"]\n'
        'plaintext-logins = "loopback"\n',
    )
    assert options["port"] == 9001
    assert options["history"] == 7
    assert options["msg-rate"] == 2.5
    assert options["web"] == "tcp:8081"
    assert options["no-udp"] and not options["no-web"]
    assert options["web-origin"] == ["https://a.example", "https://b.example"]
    assert options["plaintext-logins"] == "loopback"
    assert options.roomLimits().plaintextLogins is PlaintextLogins.LOOPBACK


def test_the_command_line_wins(tmp_path: Path) -> None:
    options = _parsed(
        tmp_path,
        'port = 9001\nweb-origin = ["https://a.example"]\n',
        "--port",
        "9002",
        "--web-origin=https://c.example",
    )
    assert options["port"] == 9002
    assert options["web-origin"] == ["https://c.example"]  # replaced, not added to


MISTAKES = [
    ("porrt = 9000\n", "key 'porrt': no such option"),
    ('port = "9000"\n', "key 'port': must be a number, not a string"),
    ("port = 70000\n", "key 'port': '70000' is not a port"),
    ("history = -1\n", "key 'history': -1 is below zero"),
    ("no-udp = 1\n", "key 'no-udp': must be true or false, not a number"),
    ('web-origin = "https://a.example"\n', "key 'web-origin': must be a list of strings"),
    ("db = 3\n", "key 'db': must be a string, not a number"),
    ('plaintext-logins = "never"\n', "key 'plaintext-logins': 'never' is not one of anywhere,"),
    ("plaintext-logins = 0\n", "key 'plaintext-logins': must be a string, not a number"),
    ('config = "other.toml"\n', "key 'config': no such option"),
    ("port = [\n", "not TOML"),
]


@pytest.mark.parametrize("command", ["twistd", "chatserver"])
@pytest.mark.parametrize(("text", "says"), MISTAKES)
def test_a_mistake_stops_the_start_in_one_line(
    tmp_path: Path, command: str, text: str, says: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    if command == "twistd":
        argv = [installed("twistd"), "-n", "--pidfile=", "chatroom", "--config", str(config)]
    else:
        argv = [installed("chatserver"), "0", f"--config={config}"]
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"{command}: {config}: {says}" + result.stderr.partition(says)[2]
    assert result.stderr.count("\n") == 1, result.stderr
    assert not list(tmp_path.glob("*.sqlite"))


def test_a_missing_file_is_one_line_too(tmp_path: Path) -> None:
    result = subprocess.run(
        [installed("chatserver"), "0", "--config", "nowhere.toml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr == "chatserver: nowhere.toml: cannot read it: No such file or directory\n"


def test_a_real_server_takes_the_file_and_the_command_line_over_it(tmp_path: Path) -> None:
    config = tmp_path / "chatroom.toml"
    config.write_text(
        'port = 1\ninterface = "127.0.0.1"\nweb = "tcp:0:interface=127.0.0.1"\n'
        'db = "from-file.sqlite"\n'
    )
    argv = [installed("twistd"), "-n", "--pidfile=", "chatroom", "--config", str(config)]
    server = ServerProcess([*argv, "--port", "0"], tmp_path)  # port 1 would need root
    try:
        client = BlockingClient(server.ports["TCP"])
        client.expect("C HELLO chatroom 1 TCP")
        client.send("C LOGIN erin", "C PASS pw")
        client.expect(
            "C PASSWORD NEW", "C WELCOME erin TCP Welcome erin, you are connected via TCP."
        )
        client.close()
    finally:
        assert server.stop() == 0
    log = server.log()
    assert "chatroom listening for TCP on 127.0.0.1:" in log  # the file's interface
    assert "chatroom listening for WEB on 127.0.0.1:" in log  # the file's web
    assert (tmp_path / "from-file.sqlite").exists()


def test_the_example_file_in_contrib_is_taken(tmp_path: Path) -> None:
    """
    contrib/chatroom.toml, as shipped, with what must differ on a test machine
    given on the command line (which wins): every other key is the file's.
    """
    argv = [
        installed("twistd"),
        "-n",
        "--pidfile=",
        "chatroom",
        "--config",
        str(CONTRIB / "chatroom.toml"),
        "--port=0",
        "--interface=127.0.0.1",
        "--web=tcp:0:interface=127.0.0.1",
        "--metrics=tcp:0:interface=127.0.0.1",
        "--db=chat.sqlite",
    ]
    server = ServerProcess(argv, tmp_path)
    try:
        client = BlockingClient(server.ports["TCP"])
        client.expect("C HELLO chatroom 1 TCP")
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.log()
