"""Manifests: what one screen plays for its horizon, compiled once per target set and day.

- `fingerprint` — what a manifest depends on, and so its ETag, read without compiling;
- `compile` — the deterministic document from published content and a screen's facts;
- `cache` — per-process caches of published content and compiled parts (safe to lose);
- `poll` — a player's poll: 304 on a matching ETag, else the document.
"""

from server.manifests.cache import ManifestCache
from server.manifests.fingerprint import PROTOCOL, Fingerprint, fingerprint, window
from server.manifests.poll import PollAnswer, answer_poll

__all__ = [
    "PROTOCOL",
    "Fingerprint",
    "ManifestCache",
    "PollAnswer",
    "answer_poll",
    "fingerprint",
    "window",
]
