"""
End to end: real C{chatclient} processes with piped input, against a real
C{twistd -n chatroom} process, over TCP and UDP.
"""

from __future__ import annotations

import re
import signal
import subprocess

import pytest
from helpers.servers import freeUDPPort
from helpers.wire import ClientProcess, ServerProcess, installed, pipedClient, twistdServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = twistdServer(tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


def port(server: ServerProcess, udp: bool) -> str:
    return str(server.ports["UDP" if udp else "TCP"])


def chat(server: ServerProcess, name: str, lines: str, udp: bool = False) -> tuple[int, str]:
    return pipedClient(int(port(server, udp)), name, lines, udp)


def online(server: ServerProcess, name: str, udp: bool = False) -> ClientProcess:
    """
    A client that logged in and waits at the operation prompt.
    """
    client = ClientProcess("127.0.0.1", port(server, udp), name, *(["--udp"] if udp else []))
    client.type("pw-" + name)
    client.waitFor("Operation [PM/DM/EX]")
    return client


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_the_issues_one_liner(server, udp):
    """
    printf 'secret\\nPM\\nhello\\nEX\\n' | chatclient 127.0.0.1 PORT alice
    """
    name = "alice_udp" if udp else "alice_tcp"
    status, out = chat(server, name, "secret\nPM\nhello\nEX\n", udp)
    transport = "UDP" if udp else "TCP"
    assert status == 0, out
    assert f"Choose a password for {name}:" in out
    assert f"Welcome {name}, you are connected via {transport}." in out
    assert "Sent to" in out and out.rstrip().endswith("Bye.")
    status, out = chat(server, name, "secret\nEX\n", udp)
    assert status == 0 and "Password:" in out and "Welcome" in out


@pytest.mark.parametrize("udp", [False, True], ids=["tcp-to-udp", "udp-to-tcp"])
def test_public_and_direct_messages_across_transports(server, udp):
    listener = online(server, "listener_" + ("t" if udp else "u"), udp=not udp)
    try:
        sender = "sender_" + ("u" if udp else "t")
        status, out = chat(
            server,
            sender,
            f"pw\nPM\nhi room\nDM\n{listener.process.args[3]}\nhi you\nEX\n",
            udp,
        )
        assert status == 0, out
        assert f"Online: {listener.process.args[3]}[{'TCP' if udp else 'UDP'}]" in out
        assert f"Delivered to {listener.process.args[3]}." in out
        tag = "UDP" if udp else "TCP"
        listener.waitFor(f"{sender}[{tag}] : hi room")
        listener.waitFor(f"{sender}[{tag}] (direct) : hi you")
        listener.waitFor(f"{sender} [{tag}] has left the chat.")
        listener.type("EX")
        assert listener.wait() == 0
    finally:
        listener.stop()


def test_name_taken_then_another_name(server):
    holder = online(server, "holder")
    try:
        status, out = chat(server, "HOLDER", "other-holder\npw\nEX\n")
        assert status == 0, out
        assert "That username is already taken, please enter a different one." in out
        assert "Welcome other-holder, you are connected via TCP." in out
    finally:
        holder.type("EX")
        holder.wait()


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_wrong_password_then_the_right_one(server, udp):
    name = "dave_udp" if udp else "dave_tcp"
    assert chat(server, name, "right\nEX\n", udp)[0] == 0
    status, out = chat(server, name, "wrong\nright\nEX\n", udp)
    assert status == 0, out
    assert out.index("Wrong password.") < out.index(f"Welcome {name}")


def test_end_of_input_leaves_cleanly(server):
    status, out = chat(server, "quiet", "pw\n")
    assert status == 0 and out.rstrip().endswith("Bye."), out


def test_server_shutdown_and_lost_server(tmp_path):
    server = twistdServer(tmp_path)
    tcp = online(server, "tina")
    udp = online(server, "uma", udp=True)
    try:
        server.stop(signal.SIGTERM)
        for client in (tcp, udp):
            client.waitFor("The server is shutting down.")
            assert client.wait() == 0
    finally:
        tcp.stop()
        udp.stop()
    server = twistdServer(tmp_path)
    client = online(server, "tina")
    try:
        server.stop(signal.SIGKILL)
        client.waitFor("Lost connection to the server.")
        assert client.wait() == 1
    finally:
        client.stop()


def test_a_slow_password_is_not_noticed(tmp_path):
    """
    The server gives up on a login after --login-timeout; a person slower
    than that at the password prompt just gets logged in.
    """
    server = twistdServer(tmp_path, "--login-timeout=1")
    try:
        for udp in (False, True):
            name = "slow_udp" if udp else "slow_tcp"
            client = ClientProcess(
                "127.0.0.1", port(server, udp), name, *(["--udp"] if udp else [])
            )
            client.waitFor(f"Choose a password for {name}:")
            server.waitForLog("did not log in in time")
            client.type("typed-slowly", "EX")
            client.waitFor(f"Welcome {name}, you are connected via")
            assert client.wait() == 0
            assert "password" not in "\n".join(client.lines[1:]).lower()
    finally:
        server.stop()


def test_refused_connection_is_a_clear_error():
    status, out = chat_to_nowhere()
    assert status == 1 and "Cannot connect to 127.0.0.1 port" in out


def chat_to_nowhere() -> tuple[int, str]:
    with socketBoundButNotListening() as freePort:
        result = subprocess.run(
            [installed("chatclient"), "127.0.0.1", str(freePort), "nobody"],
            input="",
            capture_output=True,
            text=True,
            timeout=60,
        )
    return result.returncode, result.stdout + result.stderr


class socketBoundButNotListening:
    """
    A TCP port that is surely closed: bound by us, never listening.
    """

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_help_and_bad_arguments():
    out = subprocess.run(
        [installed("chatclient"), "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for text in ["--udp", "PM", "DM", "EX", "görüşürüz", "Exit status"]:
        assert text in out
    bad = subprocess.run(
        [installed("chatclient"), "127.0.0.1", "9000", "bad name"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "that username cannot be used" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_input_that_is_not_utf8(server):
    result = subprocess.run(
        [installed("chatclient"), "127.0.0.1", port(server, False), "bytes"],
        input=b"pw\nPM\nbad \xff byte\nEX\n",
        capture_output=True,
        timeout=60,
    )
    out = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert result.returncode == 0, out
    assert "Sent to" in out and "Traceback" not in out and "Unhandled" not in out


def test_udp_with_nothing_listening_says_so():
    """
    The kernel answers ICMP port unreachable on the loopback: the client
    says at once that nothing is listening, and exits 1 (it used to show
    nothing for 26 s).
    """
    client = ClientProcess("127.0.0.1", str(freeUDPPort()), "nobody", "--udp")
    try:
        line = client.waitFor("does not answer")
        assert "nothing is listening on that UDP port" in line
        assert client.wait() == 1
    finally:
        client.stop()


def test_udp_to_a_silent_port_waits_politely():
    """
    Where nothing is known (no ICMP: the datagrams are just not answered),
    the client says it is still waiting, then keeps waiting.
    """
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        client = ClientProcess("127.0.0.1", str(silent.getsockname()[1]), "nobody", "--udp")
        try:
            client.waitFor("Still waiting for the server at 127.0.0.1 port")
            assert client.process.poll() is None
        finally:
            client.stop()


def test_udp_client_notices_a_killed_server_promptly(tmp_path):
    """
    The session's socket is connected once the server answered: the first
    datagram after the server died comes back as ICMP port unreachable,
    and the user hears of it at once, not after ~14 s of retries.
    """
    server = twistdServer(tmp_path)
    client = online(server, "una", udp=True)
    try:
        server.stop(signal.SIGKILL)
        client.type("PM", "anyone there?")
        client.waitFor("Lost connection to the server.")
        assert client.wait() == 1
    finally:
        client.stop()
        server.stop()


# Issue 13: one line is enough, who is here, what was said before.

TIME = r"\d\d:\d\d "


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_one_line_operations_and_who(server, udp):
    listener = online(server, "hearer_" + ("u" if udp else "t"), udp=not udp)
    name = listener.process.args[3]
    try:
        sender = "oneliner_" + ("u" if udp else "t")
        me = f"{sender}[{'UDP' if udp else 'TCP'}]"
        status, out = chat(server, sender, f"pw\nWHO\nPM hi all\nDM {name} psst\nEX\n", udp)
        assert status == 0, out
        # (Others of this module's server may still be online.)
        assert re.search(f"{TIME}Online now \\(\\d+\\): .*{re.escape(me)} \\(you\\)", out), out
        assert re.search(f"{TIME}{re.escape(me)} \\(you\\) : hi all · Sent to \\d+ users?\\.", out)
        assert f"{me} (direct to {name}) : psst · Delivered to {name}." in out, out
        assert "Unknown operation" not in out
        assert re.search(f"{TIME}{re.escape(me)} : hi all", listener.waitFor(": hi all"))
        listener.waitFor(f"{me} (direct) : psst")
        listener.waitFor(f"{sender} [{me[-4:-1]}] has left the chat.")
        listener.type("EX")
        assert listener.wait() == 0
    finally:
        listener.stop()


@pytest.mark.parametrize("udp", [False, True], ids=["tcp", "udp"])
def test_history_and_kept_messages_on_arrival(server, udp):
    """
    What was said before and what was sent to us while away are shown on
    arrival, in that order, with times, before the first prompt.
    """
    reader = "reader_" + ("u" if udp else "t")
    assert chat(server, reader, "pw\nEX\n", udp)[0] == 0  # registered, then away
    writer = "writer_" + ("u" if udp else "t")
    status, out = chat(server, writer, f"pw\nPM said before {reader}\nDM {reader} kept\nEX\n")
    assert status == 0 and f"Kept for {reader}, who is offline." in out, out
    status, out = chat(server, reader, "pw\nEX\n", udp)
    assert status == 0, out
    lines = out.splitlines()
    earlier = [i for i, line in enumerate(lines) if f"(earlier) {writer}[TCP] : said" in line]
    kept = [i for i, line in enumerate(lines) if f"{writer}[TCP] (direct) : kept" in line]
    who = [i for i, line in enumerate(lines) if "Online now" in line]
    prompt = lines.index("Operation [PM/DM/EX]:")
    assert len(earlier) == len(kept) == len(who) == 1, out
    assert who[0] < earlier[0] < kept[0] < prompt, out
    assert re.match(TIME, lines[earlier[0]]) and re.match(TIME, lines[kept[0]])
    # Handed over once: the next arrival has no kept message.
    assert "(direct) : kept" not in chat(server, reader, "pw\nEX\n", udp)[1]
