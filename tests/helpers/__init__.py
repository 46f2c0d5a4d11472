"""
What tests in every folder share, imported as C{helpers.<module>}: clients
that speak the protocol over real sockets (L{helpers.wire} for TCP and real
processes, L{helpers.udpwire} for UDP, L{helpers.wswire} for WebSocket,
L{helpers.streams} for either stream transport), a real browser
(L{helpers.browser}), throw-away certificates (L{helpers.certs}), the room's
stand-ins (L{helpers.fakes}), conversation steps (L{helpers.conversation}),
and the rest named for what they do.

C{tests/} is on C{sys.path} (pytest puts the directory of the top
C{conftest.py} there; mypy has C{mypy_path = "tests"}), so C{helpers} imports
the same from every folder. Test modules never import each other.
"""
