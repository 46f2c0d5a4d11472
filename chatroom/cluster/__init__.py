"""
Several nodes, one room (protocol 1.1, section 10): presence, names and fan-out
shared through Redis (L{chatroom.cluster.roster.ClusterRoster}); accounts,
history and stored messages in PostgreSQL, as with one node.

Nothing here is imported unless C{--redis} is given.
"""

from chatroom.settings import NODE_TIMEOUT as NODE_TIMEOUT
