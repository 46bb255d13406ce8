"""Errors of media storage backends that the server maps to its own (see server.storage).

They subclass builtins only: `server.media` imports nothing of the rest of the project.
"""

from __future__ import annotations


class StoreUnavailable(ConnectionError):
    """The remote store could not be reached or refused to work (a 503 for the caller)."""


class ChecksumMismatch(ValueError):
    """Bytes did not match their content hash (or the store's checksum) on the way in."""


class StoreMisconfigured(StoreUnavailable):
    """The store answered, but says the bucket is missing or not ours to use."""
