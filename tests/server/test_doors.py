"""
The doors (the TCP, UDP, WebSocket and IRC transports) know the room only as the
pipeline's L{IDoorway}: importing every one of them loads no room.
"""

from __future__ import annotations

import subprocess
import sys

from zope.interface.verify import verifyClass

from chatroom.pipeline import IDoorway
from chatroom.room import Room

DOORS = [
    "chatroom.lines",
    "chatroom.stream",
    "chatroom.tcp",
    "chatroom.udp",
    "chatroom.udp.channel",
    "chatroom.udp.handshake",
    "chatroom.udp.protocol",
    "chatroom.web",
    "chatroom.web.channel",
    "chatroom.web.site",
    "chatroom.irc",
    "chatroom.irc.door",
    "chatroom.irc.commands",
    "chatroom.irc.queries",
    "chatroom.irc.history",
    "chatroom.irc.mapping",
    "chatroom.irc.registration",
    "chatroom.irc.wire",
]


def test_no_door_imports_the_room():
    program = "\n".join(
        [
            "import importlib, sys",
            *(f"importlib.import_module({door!r})" for door in DOORS),
            "print(sorted(name for name in sys.modules if name.startswith('chatroom.')))",
        ]
    )
    loaded = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "'chatroom.tcp'" in loaded and "'chatroom.web.site'" in loaded
    assert "'chatroom.irc.door'" in loaded
    assert "'chatroom.room'" not in loaded


def test_the_room_is_the_doorway():
    assert verifyClass(IDoorway, Room)
