"""
Any bytes a client sends get a clear answer or none, never a traceback or a
lost connection: random lines (seeded, so a failure repeats) and known
awkward ones, before and after registration, then a PING that must come back.
"""

from __future__ import annotations

import random
import time

from helpers.ircwire import IRCClient, registered
from helpers.wire import ServerProcess

#: Seconds for the default rate limit's bucket (40 frames, 20 a second) to fill again.
RATE_REFILL = 2.5

AWKWARD = [
    b"",
    b" ",
    b":",
    b":prefix-only",
    b"@",
    b"@a=b",
    b"@a=b :src",
    b"CAP",
    b"CAP REQ",
    b"CAP REQ :",
    b"AUTHENTICATE",
    b"AUTHENTICATE PLAIN",
    b"AUTHENTICATE !!!notbase64",
    b"PRIVMSG",
    b"PRIVMSG #chatroom",
    b"PRIVMSG #chatroom :\x01",
    b"PRIVMSG #chatroom :\x01\x01",
    b"PRIVMSG #chatroom :\x03,",
    b"PRIVMSG #chatroom :\x00nul",
    b"PRIVMSG #chatroom :\xff\xfe",
    b"KICK",
    b"KICK #chatroom",
    b"MUTE",
    b"ROLE x y z",
    b"CHATHISTORY",
    b"CHATHISTORY LATEST #chatroom * notanumber",
    b"WHO",
    b"WHOIS",
    b"USERHOST",
    b"ISON",
    b"MODE",
    b"JOIN",
    b"JOIN ,,,",
    b"PART",
    b"NAMES #nope",
    b"NICK",
    b"NICK :",
]


def nasty(rng: random.Random) -> bytes:
    words = [b"PRIVMSG", b"NOTICE", b"JOIN", b"WHO", b"CAP", b"#chatroom", b":", b"@x=y", b"\xc3"]
    parts = [rng.choice(words) if rng.random() < 0.5 else rng.randbytes(rng.randint(0, 12))]
    for _ in range(rng.randint(0, 5)):
        parts.append(rng.choice(words) if rng.random() < 0.5 else rng.randbytes(rng.randint(0, 8)))
    return b" ".join(parts).replace(b"\n", b"").replace(b"\r", b"")


def test_garbage_never_breaks_the_door(ircServer: ServerProcess) -> None:
    rng = random.Random(24)
    early = IRCClient(ircServer.ports["IRC"])
    early.sendRaw(b"\r\n".join([*AWKWARD, *(nasty(rng) for _ in range(60))]) + b"\r\n")
    time.sleep(RATE_REFILL)  # many lines were refused for their rate: let it refill
    early.send("PING :alive-early")
    early.waitFor(":alive-early")
    early.close()
    late = registered(ircServer.ports["IRC"], "gary")
    late.sendRaw(b"\r\n".join([*AWKWARD, *(nasty(rng) for _ in range(60))]) + b"\r\n")
    time.sleep(RATE_REFILL)
    late.send("PING :alive-late")
    late.waitFor(":alive-late")
    late.close()
    log = ircServer.log()
    assert "Traceback" not in log and "Unhandled" not in log, log[-3000:]
