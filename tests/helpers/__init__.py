"""
What tests in every folder share: clients that speak the protocol over real
sockets (L{helpers.wire} for TCP and real processes, L{helpers.udpwire} for
UDP, L{helpers.wswire} for WebSocket), a real browser (L{helpers.browser}) and
throw-away certificates (L{helpers.certs}).

C{tests/} is on C{sys.path} (pytest puts the directory of the top
C{conftest.py} there; mypy has C{mypy_path = "tests"}), so C{helpers} imports
the same from every folder.
"""
