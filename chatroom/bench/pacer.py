"""
C{python -m chatroom.bench.pacer PROTOCOL PORT RATE COUNT SIZE}: one sender, one message
every C{1/RATE} seconds, each in its own C{send}.

A process of its own, with a blocking socket and absolute deadlines: the load generator's
reactor cannot wake every half millisecond, and its writes of one pass would leave as one
segment, which is the batching this sender exists to avoid. It logs in (C{chatroom}: C{C LOGIN};
C{irc}: NICK, USER, JOIN), prints C{ready}, waits for a line on its input, sends, prints C{sent
COUNT SECONDS}, then stays connected, reading and discarding, until its input closes.
"""

from __future__ import annotations

import os
import select
import socket
import sys
import time


def login(protocol: str) -> tuple[bytes, bytes]:
    """
    What to send to log in, and what the server says once we are in.
    """
    if protocol == "chatroom":
        return b"C LOGIN pacer\n", b"C WELCOME "
    if protocol == "irc":
        return b"NICK pacer\r\nUSER pacer 0 * :pacer\r\nJOIN #bench\r\n", b" 366 "
    raise SystemExit(f"unknown protocol {protocol!r}: chatroom or irc")


def message(protocol: str, size: int) -> bytes:
    stamp = b"%d " % time.monotonic_ns()
    text = stamp + b"x" * max(1, size - len(stamp))
    if protocol == "chatroom":
        return b"C PM\nD " + text + b"\n"
    return b"PRIVMSG #bench :" + text + b"\r\n"


def drain(sock: socket.socket) -> bytes:
    """
    Whatever the server sent (confirmations, PINGs), without waiting.
    """
    try:
        return sock.recv(1 << 16, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return b""


def main(argv: list[str]) -> int:
    protocol, port, rate, count, size = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), 64
    if len(argv) > 4:
        size = int(argv[4])
    hello, welcome = login(protocol)
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(hello)
    seen = b""
    deadline = time.monotonic() + 30
    while welcome not in seen:
        if time.monotonic() > deadline:
            raise SystemExit("not welcomed within 30 s")
        seen = seen[-4096:] + sock.recv(1 << 16)
    sock.settimeout(None)  # blocking sends; MSG_DONTWAIT reads
    print("ready", flush=True)
    sys.stdin.readline()
    interval = 1e9 / rate
    start = time.monotonic_ns()
    for i in range(count):
        due = start + int(i * interval)
        wait = due - time.monotonic_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        sock.sendall(message(protocol, size))
        if i % 64 == 0:
            for line in drain(sock).split(b"\r\n"):
                if line.startswith(b"PING "):
                    sock.sendall(b"PONG " + line[5:] + b"\r\n")
    print(f"sent {count} {(time.monotonic_ns() - start) / 1e9:.6f}", flush=True)
    sock.setblocking(False)
    stdin = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([sock, stdin], [], [], 1.0)
        if stdin in ready and not os.read(stdin, 1024):
            break
        if sock in ready:
            try:
                if not sock.recv(1 << 16):
                    break
            except BlockingIOError:
                pass
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
