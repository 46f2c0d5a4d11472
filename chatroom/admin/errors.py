"""
How C{chatroom-admin} tells a mistake: one line on standard error and exit
status 1, never a traceback. Misuse of the command line is argparse's (exit
status 2).
"""

from __future__ import annotations

#: Exit status of a mistake in what was asked (an unknown name, a bad duration, a
#: database that is not chatroom's, a missing file).
MISTAKE = 1

#: Exit status of a command line that cannot be read (argparse's own).
MISUSE = 2


class AdminError(Exception):
    """
    Something the operator asked for cannot be done; the message, one line,
    says what and why.
    """
