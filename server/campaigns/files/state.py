"""A campaign's content as comparable values: from a file (bound) or from the database.

Plan compares two states; apply makes the database match a state; export writes one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from server.campaigns.models import Campaign
from server.campaigns.snapshot import is_empty_targets, normal_targets
from server.playlists.models import Playlist


@dataclass(frozen=True)
class ItemState:
    kind: str  # AssetKind value: "image", "video", "slogan"
    sha256: str
    duration_ms: int
    fit: str = "contain"
    transition: str = "cut"
    label: str = field(default="", compare=False)  # what an operator recognises it by
    path: Path | None = field(default=None, compare=False)  # a poster to import
    slogan: dict[str, Any] | None = field(default=None, compare=False)
    asset_id: int | None = field(default=None, compare=False)  # an existing asset to use


@dataclass(frozen=True)
class EntryState:
    playlist: str
    targets: dict[str, Any]  # normal_targets(...), or {} for the campaign's own
    first_date: date | None = None
    last_date: date | None = None
    weekdays: tuple[int, ...] | None = None
    windows: tuple[tuple[str, str], ...] = ()
    interval_start: datetime | None = None
    interval_end: datetime | None = None
    screen_local: bool = False
    priority: int = 0
    layer: str = "normal"


@dataclass(frozen=True)
class CampaignState:
    name: str
    organisation_id: int
    timezone: str
    start_date: date
    end_date: date
    targets: dict[str, Any]
    playlists: dict[str, tuple[ItemState, ...]]
    entries: tuple[EntryState, ...]
    description: str = ""

    def header(self) -> dict[str, Any]:
        """The campaign's own fields, as plan and audit show them."""
        return {
            "description": self.description,
            "timezone": self.timezone,
            "dates": f"{self.start_date.isoformat()} .. {self.end_date.isoformat()}",
            "targets": self.targets,
        }


def entry_targets(targets: dict[str, Any] | None) -> dict[str, Any]:
    return {} if is_empty_targets(targets) else normal_targets(targets)


def item_state(playlist: Playlist) -> tuple[ItemState, ...]:
    out = []
    for item in playlist.items:
        asset = item.asset
        label = (
            (asset.slogan or {}).get("text", "").split("\n", 1)[0]
            if asset.slogan
            else asset.original_name or asset.title or asset.sha256[:12]
        )
        out.append(
            ItemState(
                kind=str(asset.kind),
                sha256=asset.sha256,
                duration_ms=item.duration_ms,
                fit=item.fit,
                transition=item.transition,
                label=label,
                slogan=asset.slogan,
                asset_id=asset.id,
            )
        )
    return tuple(out)


def from_campaign(campaign: Campaign, playlists: list[Playlist]) -> CampaignState:
    """The state of a stored campaign; `playlists` are its own (campaign_id = its id)."""
    by_id = {p.id: p for p in playlists}
    for entry in campaign.entries:
        by_id.setdefault(entry.playlist_id, entry.playlist)
    return CampaignState(
        name=campaign.name,
        organisation_id=campaign.organisation_id,
        timezone=campaign.timezone,
        start_date=campaign.start_date,
        end_date=campaign.end_date,
        targets=normal_targets(campaign.targets),
        description=campaign.description or "",
        playlists={p.name: item_state(p) for p in sorted(by_id.values(), key=lambda p: p.id)},
        entries=tuple(
            EntryState(
                playlist=e.playlist.name,
                targets=entry_targets(e.targets),
                first_date=e.first_date,
                last_date=e.last_date,
                weekdays=tuple(sorted(e.weekdays)) if e.weekdays is not None else None,
                windows=tuple((w[0], w[1]) for w in e.windows or ()),
                interval_start=e.interval_start,
                interval_end=e.interval_end,
                screen_local=e.screen_local,
                priority=e.priority,
                layer=e.layer,
            )
            for e in campaign.entries
        ),
    )
