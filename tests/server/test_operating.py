"""
Operating a real server (protocol 1.2, section 12): C{--metrics} scraped over
HTTP from a real twistd (and checked by Prometheus's own C{promtool} when it
is installed), C{/livez} and C{/readyz}, and a clean exit on SIGTERM.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.wire import BlockingClient, ServerProcess, installed, twistdServer

from chatroom.bench import pgserver, redisserver

METRICS = "--metrics=tcp:0:interface=127.0.0.1"


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _readyz(port: int, status: int, within: float = 30.0) -> tuple[int, str]:
    """
    C{/readyz}'s answer once it is C{status}, or the last one after C{within} seconds.
    """
    deadline = time.monotonic() + within
    answer = _get(port, "/readyz")
    while answer[0] != status and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = _get(port, "/readyz")
    return answer


def _series(text: str) -> dict[str, float]:
    """
    The samples of a scrape, by name and labels as written.
    """
    return {
        line.rpartition(" ")[0]: float(line.rpartition(" ")[2])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def _login(port: int, name: str) -> BlockingClient:
    client = BlockingClient(port)
    client.expect("C HELLO chatroom 1 TCP")
    client.send(f"C LOGIN {name}", f"C PASS pw-{name}")
    client.expect(
        "C PASSWORD NEW", f"C WELCOME {name} TCP Welcome {name}, you are connected via TCP."
    )
    return client


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = twistdServer(tmp_path, METRICS)
    try:
        yield server
    finally:
        server.stop()


def test_metrics_count_messages_deliveries_and_logins(server: ServerProcess) -> None:
    port, metrics = server.ports["TCP"], server.ports["METRICS"]
    alice, bob, carol = _login(port, "alice"), _login(port, "bob"), _login(port, "carol")
    alice.expect("C JOIN bob TCP", "C JOIN carol TCP")
    alice.send("C PM", "D hello")
    alice.expect("C ACK PM", "C OK PM 2")
    alice.send("C DM", "D bob psst")
    alice.expect("C USERS alice:TCP bob:TCP carol:TCP", "C OK DM bob")
    bob.expect("C JOIN carol TCP", "D PM alice TCP hello", "D DM alice TCP psst")
    carol.expect("D PM alice TCP hello")
    wrong = BlockingClient(port)
    wrong.expect("C HELLO chatroom 1 TCP")
    wrong.send("C LOGIN carol2", "C PASS x")  # a new account: then a wrong password for it
    wrong.expect(
        "C PASSWORD NEW", "C WELCOME carol2 TCP Welcome carol2, you are connected via TCP."
    )
    wrong.send("C EX")
    wrong.expect("C BYE EXIT")
    again = BlockingClient(port)
    again.expect("C HELLO chatroom 1 TCP")
    again.send("C LOGIN carol2", "C PASS wrong")
    again.expect("C PASSWORD EXISTING", "C ERR BAD_PASSWORD wrong password")

    status, text = _get(metrics, "/metrics")
    assert status == 200
    series = _series(text)
    assert series['chatroom_users_online{transport="TCP"}'] == 3
    assert series['chatroom_messages_total{kind="public"}'] == 1
    assert series['chatroom_messages_total{kind="direct"}'] == 1
    assert series["chatroom_deliveries_total"] == 3  # bob and carol, then bob
    assert series['chatroom_logins_total{result="ok"}'] == 4
    assert series['chatroom_logins_total{result="bad_password"}'] == 1
    assert series['chatroom_build_info{version="0.1.0"}'] == 1
    assert "# TYPE chatroom_moderation_actions_total counter" in text
    for name in ["alice", "bob", "carol"]:
        assert name not in text  # no series names a user
    if shutil.which("promtool") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have promtool (Debian's prometheus package)")
        return
    check = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_livez_and_readyz_answer_while_serving(server: ServerProcess) -> None:
    metrics = server.ports["METRICS"]
    assert _get(metrics, "/livez") == (200, "ok\n")
    assert _get(metrics, "/readyz") == (200, "ready\n")
    assert _get(metrics, "/nothing")[0] == 404


def test_readyz_says_503_while_the_database_is_down(tmp_path: Path) -> None:
    if not pgserver.installed():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have PostgreSQL: {pgserver.BINARIES} has no postgres")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    postgres = pgserver.PostgresServer()
    try:
        postgres.start()
        url = postgres.createDatabase("readyz")
        server = twistdServer(tmp_path, f"--db={url}", METRICS)
        try:
            metrics = server.ports["METRICS"]
            assert _get(metrics, "/readyz") == (200, "ready\n")
            postgres.stop()
            status, reason = _get(metrics, "/readyz")
            assert status == 503
            assert reason.startswith("database ") and reason.count("\n") == 1, reason
            assert "does not answer" in reason
            assert _get(metrics, "/livez")[0] == 200
            postgres.start()
            # The pool reconnects: ready again, soon.
            assert _readyz(metrics, 200) == (200, "ready\n")
        finally:
            server.stop()
    finally:
        postgres.remove()


def test_readyz_says_503_while_redis_is_down(tmp_path: Path) -> None:
    for installedThere, package in [
        (pgserver.installed(), "postgresql"),
        (redisserver.installed(), "redis-server"),
    ]:
        if not installedThere:
            if os.environ.get("CI"):
                pytest.fail(f"CI must have {package}")
            pytest.skip(f"{package} is not installed")
    postgres, redis = pgserver.PostgresServer(), redisserver.RedisServer()
    try:
        postgres.start()
        redis.start()
        url = postgres.createDatabase("readyz")
        server = twistdServer(tmp_path, f"--db={url}", f"--redis={redis.url}", METRICS)
        try:
            metrics = server.ports["METRICS"]
            assert _readyz(metrics, 200) == (200, "ready\n")
            redis.stop()
            assert _readyz(metrics, 503) == (503, "Redis is not connected\n")
            redis.start()
            assert _readyz(metrics, 200) == (200, "ready\n")
        finally:
            server.stop()
    finally:
        redis.remove()
        postgres.remove()


@pytest.mark.parametrize("command", ["twistd", "chatserver"])
def test_sigterm_stops_the_server_with_status_0(tmp_path: Path, command: str) -> None:
    if command == "twistd":
        server = twistdServer(tmp_path)
    else:
        argv = [installed("chatserver"), "0", "--interface", "127.0.0.1", "--db", "chat.sqlite"]
        server = ServerProcess(argv, tmp_path)
    try:
        client = _login(server.ports["TCP"], "dana")
        server.stop(signal.SIGTERM)
        client.expect("C BYE SHUTDOWN")
    finally:
        status = server.stop()
    assert status == 0
    log = server.log()
    assert re.search(r"Received SIGTERM, shutting down\.", log), log
    assert "chatroom stopped" in log and "Traceback" not in log
