"""
The room in a browser: the page (L{chatroom.web.site}) and its WebSocket
(L{chatroom.web.channel}), served by twisted.web on one listener.
"""

from chatroom.web.channel import SUBPROTOCOL, ChatWebSocketProtocol, WebSocketFactory
from chatroom.web.site import webSite

__all__ = ["SUBPROTOCOL", "ChatWebSocketProtocol", "WebSocketFactory", "webSite"]
