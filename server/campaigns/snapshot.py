"""A campaign's content frozen for publication: what `server.campaigns.publications` reads.

Format 1::

    {"format": 1,
     "campaign": {"id", "name", "organisation_id", "timezone", "start_date", "end_date"},
     "playlists": {"<playlist id>": {"name", "items": [{"asset_id", "sha256", "kind",
                                                         "duration_ms", "fit", "transition"}]}},
     "entries": [{"playlist_id", "targets": {"everyone", "organisations", "groups", "tags",
                                            "screens"},
                  "first_date", "last_date", "weekdays", "windows", "interval_start",
                  "interval_end", "screen_local", "priority", "layer"}]}

Dates are ISO strings; entry targets are already resolved (an entry without its own
targets carries the campaign's).
"""

from __future__ import annotations

from typing import Any

from server.campaigns.models import Campaign, ScheduleEntry
from server.playlists.models import Playlist

FORMAT = 1
TARGET_KEYS = ("everyone", "organisations", "groups", "tags", "screens")


def normal_targets(targets: dict[str, Any] | None) -> dict[str, Any]:
    """Targets with every key present, lists sorted, so equal targets compare equal."""
    targets = targets or {}
    return {
        "everyone": bool(targets.get("everyone", False)),
        "organisations": sorted(int(i) for i in targets.get("organisations", ())),
        "groups": sorted(int(i) for i in targets.get("groups", ())),
        "tags": sorted(str(t) for t in targets.get("tags", ())),
        "screens": sorted(int(i) for i in targets.get("screens", ())),
    }


def is_empty_targets(targets: dict[str, Any] | None) -> bool:
    t = normal_targets(targets)
    return not t["everyone"] and not any(t[k] for k in TARGET_KEYS[1:])


def playlist_snapshot(playlist: Playlist) -> dict[str, Any]:
    return {
        "name": playlist.name,
        "items": [
            {
                "asset_id": item.asset_id,
                "sha256": item.asset.sha256,
                "kind": str(item.asset.kind),
                "duration_ms": item.duration_ms,
                "fit": item.fit,
                "transition": item.transition,
            }
            for item in playlist.items
        ],
    }


def entry_snapshot(entry: ScheduleEntry, campaign: Campaign) -> dict[str, Any]:
    own = entry.targets
    targets = normal_targets(campaign.targets if is_empty_targets(own) else own)
    return {
        "playlist_id": entry.playlist_id,
        "targets": targets,
        "first_date": entry.first_date.isoformat() if entry.first_date else None,
        "last_date": entry.last_date.isoformat() if entry.last_date else None,
        "weekdays": sorted(entry.weekdays) if entry.weekdays is not None else None,
        "windows": [list(w) for w in entry.windows or ()],
        "interval_start": entry.interval_start.isoformat() if entry.interval_start else None,
        "interval_end": entry.interval_end.isoformat() if entry.interval_end else None,
        "screen_local": entry.screen_local,
        "priority": entry.priority,
        "layer": entry.layer,
    }


def campaign_snapshot(campaign: Campaign) -> dict[str, Any]:
    """The campaign's content as it is now, in the publication snapshot format."""
    playlists: dict[str, Any] = {}
    for entry in campaign.entries:
        playlists.setdefault(str(entry.playlist_id), playlist_snapshot(entry.playlist))
    return {
        "format": FORMAT,
        "campaign": {
            "id": campaign.id,
            "name": campaign.name,
            "organisation_id": campaign.organisation_id,
            "timezone": campaign.timezone,
            "start_date": campaign.start_date.isoformat(),
            "end_date": campaign.end_date.isoformat(),
        },
        "playlists": playlists,
        "entries": [entry_snapshot(e, campaign) for e in campaign.entries],
    }
