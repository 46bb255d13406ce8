"""The screen player: plays the server's manifest from its own cache and clock, unattended.

It imports nothing of `server/`: the two share `docs/player-protocol.md`, not code.
"""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
