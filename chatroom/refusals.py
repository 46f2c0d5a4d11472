"""
Answers the room gives from more than one place: written once here, so that
logging in and talking say them alike.
"""

from __future__ import annotations

from twisted.logger import Logger
from twisted.python.failure import Failure

from chatroom.codec import Err
from chatroom.pipeline import Session
from chatroom.store import Unavailable

#: What a client is told when Redis (several nodes) did not answer.
CLUSTER_UNAVAILABLE = "the cluster is unavailable right now; try again later"


def clusterUnavailable(failure: Failure, session: Session, log: Logger, undone: str) -> None:
    """
    An errback: Redis did not answer, so what C{session} asked for
    (C{undone} says what, for the console) was not done, nothing was half
    done, and the client is told so. Any failure but
    L{chatroom.store.Unavailable} is passed on.
    """
    failure.trap(Unavailable)
    log.warn("{label}: {undone}: {why}", label=session.label, undone=undone, why=failure.value)
    session.error(Err.UNAVAILABLE, CLUSTER_UNAVAILABLE)
