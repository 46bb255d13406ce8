"""The campaign being planned among everything published: its rules as if published now,
the other rules, what an operator calls each, and the screens of its organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.campaigns.describe import describe_entry, entry_from_snapshot
from server.campaigns.files.state import CampaignState
from server.campaigns.publications import (
    LiveSnapshot,
    live_snapshots,
    load_published,
    parse_rule_id,
    rules_as_of,
    rules_from_snapshot,
    screens_facts,
)
from server.campaigns.snapshot import FORMAT, normal_targets
from server.scheduling import Rule, ScreenFacts, day_start
from server.scheduling.localtime import zone
from server.screens.models import Screen


def state_snapshot(state: CampaignState, campaign_id: int) -> dict[str, Any]:
    """`state` in the publication snapshot format, playlists keyed by name."""
    return {
        "format": FORMAT,
        "campaign": {
            "id": campaign_id,
            "name": state.name,
            "organisation_id": state.organisation_id,
            "timezone": state.timezone,
            "start_date": state.start_date.isoformat(),
            "end_date": state.end_date.isoformat(),
        },
        "playlists": {
            name: {
                "name": name,
                "items": [
                    {
                        "asset_id": item.asset_id or 0,
                        "sha256": item.sha256,
                        "kind": item.kind,
                        "duration_ms": item.duration_ms,
                        "fit": item.fit,
                        "transition": item.transition,
                    }
                    for item in items
                ],
            }
            for name, items in state.playlists.items()
        },
        "entries": [
            {
                "playlist_id": e.playlist,
                "targets": normal_targets(e.targets or state.targets),
                "first_date": e.first_date.isoformat() if e.first_date else None,
                "last_date": e.last_date.isoformat() if e.last_date else None,
                "weekdays": list(e.weekdays) if e.weekdays is not None else None,
                "windows": [list(w) for w in e.windows],
                "interval_start": e.interval_start.isoformat() if e.interval_start else None,
                "interval_end": e.interval_end.isoformat() if e.interval_end else None,
                "screen_local": e.screen_local,
                "priority": e.priority,
                "layer": e.layer,
            }
            for e in state.entries
        ],
    }


@dataclass
class Scene:
    """The campaign's rules as if published now, among everything published, and the
    screens of its organisation's subtree: what conflicts and notes are computed on."""

    mine: list[Rule]
    others: list[Rule]
    label: dict[str, str]  # rule id -> "campaign 'X' schedule[2] (on 2022-09-07 …)"
    short: dict[str, str]  # rule id -> "campaign 'X' schedule[2]"
    screens: list[Screen]
    facts: list[ScreenFacts]
    start: datetime  # a day either side of the campaign's dates
    end: datetime


def scene(
    session: Session, org: Organisation, state: CampaignState, campaign_id: int, now: datetime
) -> Scene:
    draft = LiveSnapshot(0, campaign_id, now, None, None, state_snapshot(state, campaign_id))
    mine, _ = rules_from_snapshot(draft)
    label: dict[str, str] = {}
    short: dict[str, str] = {}
    for i, entry in enumerate(draft.snapshot["entries"]):
        desc = describe_entry(
            entry_from_snapshot(entry, draft.snapshot["playlists"]), state.timezone, None
        )
        short[f"c{campaign_id}.p0.e{i}"] = f"this campaign schedule[{i}]"
        label[f"c{campaign_id}.p0.e{i}"] = f"this campaign schedule[{i}] ({desc})"
    content = load_published(session, now)
    others: list[Rule] = []
    for rule in rules_as_of(content.rules, now):
        parsed = parse_rule_id(rule.id)
        if parsed is None or parsed[0] != campaign_id:
            others.append(rule)
    for live in live_snapshots(session, now):
        snap = live.snapshot
        for i, entry in enumerate(snap["entries"]):
            desc = describe_entry(
                entry_from_snapshot(entry, snap["playlists"]), snap["campaign"]["timezone"], None
            )
            key = f"c{live.campaign_id}.p{live.publication_id}.e{i}"
            short[key] = f"campaign {snap['campaign']['name']!r} schedule[{i}]"
            label[key] = f"{short[key]} ({desc})"
    screens = list(
        session.scalars(
            select(Screen)
            .join(Screen.organisation)
            .where(Organisation.path.startswith(org.path))
            .order_by(Screen.id)
        )
    )
    tz = zone(state.timezone)
    return Scene(
        mine=mine,
        others=others,
        label=label,
        short=short,
        screens=screens,
        facts=screens_facts(session, screens, content) if screens else [],
        start=day_start(state.start_date, tz) - timedelta(days=1),
        end=day_start(state.end_date + timedelta(days=1), tz) + timedelta(days=1),
    )
