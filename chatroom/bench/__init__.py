"""
The benchmark: a real server process driven over loopback by many real
clients from one load-generator process. Run C{python -m chatroom.bench}.
"""
