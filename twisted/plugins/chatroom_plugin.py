"""
The C{twistd chatroom} plugin: a name for twistd, and nothing to import.

The service maker is lazy, so a broken dependency shows up as an error
when the server starts rather than silently hiding the plugin from
C{twistd --help}.
"""

from twisted.application.service import ServiceMaker

chatroom = ServiceMaker(
    "chatroom",
    "chatroom.tap",
    "A chat room server over TCP and UDP, with accounts.",
    "chatroom",
)
