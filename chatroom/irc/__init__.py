"""
The IRC door (protocol 1.2, section 14): IRC clients join the room as one
channel. See L{chatroom.irc.door}.
"""

from chatroom.irc.door import IRCFactory

__all__ = ["IRCFactory"]
