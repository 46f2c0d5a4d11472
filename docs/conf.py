"""
Sphinx's configuration for chatroom's documentation.

    .venv/bin/python -m sphinx -W -b html docs docs/_build/html

The test suite builds it the same way, warnings as errors
(tests/test_docs.py).
"""

project = "chatroom"
author = "the chatroom developers"
copyright = "2026, the chatroom developers"

root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
# screenshot.py retakes the web-*.png pictures; it is a script, not a page.
exclude_patterns = ["_build", "screenshot.py"]

html_theme = "alabaster"
html_title = "chatroom"
