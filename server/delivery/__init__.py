"""The player protocol (`docs/player-protocol.md`): what one screen plays for its horizon.

- `views` — the routes: hello, manifest polls, proof of play, screenshots, acknowledgements;
- `runtime` — per-process state: heartbeat buffer, manifest cache, load-shedding gate;
- `fingerprint` — what a manifest depends on, and so its ETag, read without compiling;
- `compile` — the deterministic document from published content and a screen's facts;
- `cache` — per-process caches of published content and compiled parts (safe to lose);
- `poll` — a player's poll: 304 on a matching ETag, else the document;
- `media` — `/media/{sha256}`: bytes by content hash, immutable and cacheable.
"""
