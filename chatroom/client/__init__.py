"""
The chat client: a conversation machine, two transports and a terminal.
"""
