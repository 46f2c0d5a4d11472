"""
C{/metrics}: the room's counters and roster in Prometheus's text format.

L{RoomCollector} reads the room's plain L{chatroom.counters.Counters} and
its sessions when Prometheus scrapes, so nothing on the messages' path
touches a Prometheus object. Each server has a registry of its own
(L{roomRegistry}), not C{prometheus_client}'s global one, so several servers
in one process (tests) do not collide. No series is labelled with a user's
name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from twisted.web.resource import Resource
from twisted.web.server import Request

from chatroom import __version__
from chatroom.lifecycle import Phase

if TYPE_CHECKING:
    from chatroom.room import Room


class RoomCollector:
    """
    The series of one room, made afresh at each scrape.
    """

    def __init__(self, room: Room) -> None:
        self.room = room

    def collect(self) -> Iterator[Metric]:
        online = GaugeMetricFamily(
            "chatroom_users_online", "Users logged in on this node.", labels=["transport"]
        )
        transports = Counter(
            s.channel.transportName for s in self.room.sessions if s.life.phase is Phase.ACTIVE
        )
        for transport, count in sorted(transports.items()):
            online.add_metric([transport], count)
        yield online
        counters = self.room.counters
        messages = CounterMetricFamily(
            "chatroom_messages", "Messages accepted, public or direct.", labels=["kind"]
        )
        for kind, count in sorted(counters.messages.items()):
            messages.add_metric([kind], count)
        yield messages
        yield CounterMetricFamily(
            "chatroom_deliveries",
            "Frames delivered to recipients for the messages accepted.",
            value=counters.deliveries,
        )
        logins = CounterMetricFamily(
            "chatroom_logins", "Login attempts, by result.", labels=["result"]
        )
        for result, count in sorted(counters.logins.items()):
            logins.add_metric([result], count)
        yield logins
        moderation = CounterMetricFamily(
            "chatroom_moderation_actions", "Moderation actions, by action.", labels=["action"]
        )
        for action, count in sorted(counters.moderation.items()):
            moderation.add_metric([action], count)
        yield moderation
        yield InfoMetricFamily(
            "chatroom_build", "The server's version.", value={"version": __version__}
        )


def roomRegistry(room: Room) -> CollectorRegistry:
    """
    A registry of C{room}'s series alone.
    """
    registry = CollectorRegistry()
    registry.register(RoomCollector(room))
    return registry


class MetricsPage(Resource):
    """
    The registry's series, as Prometheus scrapes them.

    Rendered on the reactor's thread (not C{prometheus_client}'s own
    Twisted resource, which renders on a thread pool): the collector reads
    the room, which only the reactor's thread may touch.
    """

    isLeaf = True

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self.registry = registry

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", CONTENT_TYPE_LATEST.encode("ascii"))
        return generate_latest(self.registry)
