"""
The web listener's HTTP side: the page's few static files and the
WebSocket at C{/ws}, nothing else.

The files come from package data and are served from an allow-list, read
once at start: a path that is not one of them is a 404, whatever it holds
(twisted.web's C{File} would look at the disk, and answers C{/%00} with a
500).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib.resources import files

from autobahn.twisted.resource import WebSocketResource
from twisted.internet.interfaces import IReactorTime
from twisted.web.resource import IResource, Resource
from twisted.web.server import Request, Site

from chatroom.pipeline import IDoorway
from chatroom.settings import SENDQ
from chatroom.web.channel import WebSocketFactory

#: The page's files: URL path segment, package file, media type.
PAGES = {
    b"": ("index.html", "text/html; charset=utf-8"),
    b"app.js": ("app.js", "text/javascript; charset=utf-8"),
    b"style.css": ("style.css", "text/css; charset=utf-8"),
    # The script's ES modules, imported by app.js.
    b"text.js": ("text.js", "text/javascript; charset=utf-8"),
    b"moderation.js": ("moderation.js", "text/javascript; charset=utf-8"),
    b"menu.js": ("menu.js", "text/javascript; charset=utf-8"),
    b"conversation.js": ("conversation.js", "text/javascript; charset=utf-8"),
    b"people.js": ("people.js", "text/javascript; charset=utf-8"),
    b"commands.js": ("commands.js", "text/javascript; charset=utf-8"),
    b"catchup.js": ("catchup.js", "text/javascript; charset=utf-8"),
    b"composer.js": ("composer.js", "text/javascript; charset=utf-8"),
    b"login.js": ("login.js", "text/javascript; charset=utf-8"),
    b"richtext.js": ("richtext.js", "text/javascript; charset=utf-8"),
    b"alerts.js": ("alerts.js", "text/javascript; charset=utf-8"),
    b"sending.js": ("sending.js", "text/javascript; charset=utf-8"),
    b"stream.js": ("stream.js", "text/javascript; charset=utf-8"),
    # The icon: the SVG the page links to, the ICO browsers ask for anyway.
    b"favicon.svg": ("favicon.svg", "image/svg+xml"),
    b"favicon.ico": ("favicon.ico", "image/x-icon"),
    # The icon while something is unread: a red dot.
    b"favicon-unread.svg": ("favicon-unread.svg", "image/svg+xml"),
}

#: Only the page's own files, and its WebSocket; nothing from elsewhere,
#: never inside a frame.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    b"Content-Security-Policy": CSP.encode(),
    b"X-Frame-Options": b"DENY",
    b"X-Content-Type-Options": b"nosniff",
    b"Referrer-Policy": b"no-referrer",
    # Revalidated on every load (cheap, with the ETag), so an upgraded
    # server never runs against yesterday's script.
    b"Cache-Control": b"no-cache",
}


def _secure(request: Request) -> None:
    for name, value in SECURITY_HEADERS.items():
        request.setHeader(name, value)


class NotFound(Resource):
    """
    A 404 for anything that is not the page.
    """

    isLeaf = True

    def render(self, request: Request) -> bytes:
        _secure(request)
        request.setResponseCode(404)
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return b"Not found\n"


class StaticFile(Resource):
    """
    One file of the page, held in memory, with its ETag.
    """

    isLeaf = True

    def __init__(self, body: bytes, mediaType: str) -> None:
        super().__init__()
        self.body = body
        self.mediaType = mediaType.encode()
        self.etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'

    def render_GET(self, request: Request) -> bytes:
        if request.postpath:  # /app.js/more
            return NotFound().render(request)
        _secure(request)
        request.setHeader(b"Content-Type", self.mediaType)
        request.setHeader(b"ETag", self.etag)
        if request.getHeader(b"If-None-Match") == self.etag:
            request.setResponseCode(304)
            return b""
        return self.body

    render_HEAD = render_GET


class Root(Resource):
    """
    C{/}, its files and C{/ws}: the allow-list.
    """

    def __init__(self, websocket: IResource) -> None:
        super().__init__()
        self.websocket = websocket
        package = files("chatroom.web") / "static"
        self.pages = {
            segment: StaticFile((package / name).read_bytes(), mediaType)
            for segment, (name, mediaType) in PAGES.items()
        }

    def getChild(self, path: bytes, request: Request) -> IResource:
        if path == b"ws" and not request.postpath:
            return self.websocket
        return self.pages.get(path, NotFound())

    def render(self, request: Request) -> bytes:
        # Only reached for the bare root without a trailing segment.
        return self.pages[b""].render(request)


def webSite(
    service: IDoorway, clock: IReactorTime, origins: Iterable[str] = (), sendq: int = SENDQ
) -> Site:
    """
    The web listener's factory: the page and its WebSocket, for C{service}.
    """
    factory = WebSocketFactory(service, clock, origins, sendq)
    site = Site(Root(WebSocketResource(factory)))
    site.displayTracebacks = False
    site.noisy = False
    return site
