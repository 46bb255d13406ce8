"""The player's status, sent with every poll in the `Signage-Status` header (protocol §2)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from player import __version__

HEADER_LIMIT = 4096
_ERROR_CHARS = 200


@dataclass(frozen=True)
class Status:
    manifest: str | None
    asset: str | None
    playlist: str | None
    uptime_s: int
    disk_free_bytes: int
    cache_shortage_bytes: int
    dropped_events: int
    errors: list[str] = field(default_factory=list)
    player_version: str = __version__

    def as_json(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "asset": self.asset,
            "playlist": self.playlist,
            "player_version": self.player_version,
            "uptime_s": self.uptime_s,
            "disk_free_bytes": self.disk_free_bytes,
            "cache_shortage_bytes": self.cache_shortage_bytes,
            "dropped_events": self.dropped_events,
            "errors": self.errors,
        }


def disk_free(path: Path) -> int:
    """Free bytes on the file system holding `path` (0 if it cannot be read)."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 0


def encode_status(status: Status, limit: int = HEADER_LIMIT) -> tuple[str, int]:
    """Compact ASCII JSON for the header, and how many of `status.errors` it carries.

    Errors are cut to 200 characters each and the newest dropped until the header fits.
    """
    body = status.as_json()
    errors = [e if len(e) <= _ERROR_CHARS else e[: _ERROR_CHARS - 1] + "…" for e in status.errors]
    for count in range(len(errors), -1, -1):
        body["errors"] = errors[:count]
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=True)
        if len(text) <= limit:
            return text, count
    # Only absurdly long playlist names get here: send the fields that matter most.
    slim = {k: body[k] for k in ("manifest", "asset", "player_version", "uptime_s")}
    return json.dumps(slim, separators=(",", ":"), ensure_ascii=True)[:limit], 0
