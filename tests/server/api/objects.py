"""Domain objects for API tests, written straight to the database (no API in the way)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.assets.models import Asset, AssetKind
from server.campaigns.models import Campaign, ScheduleEntry
from server.playlists.models import Playlist, PlaylistItem
from server.screens.models import Group, Screen


def screen(
    session: Session,
    org: Organisation,
    name: str,
    now: datetime,
    *,
    tags: Sequence[str] = (),
    groups: Sequence[Group] = (),
    last_seen_at: datetime | None = None,
    width: int = 1920,
    height: int = 1080,
) -> Screen:
    row = Screen(
        organisation_id=org.id,
        name=name,
        timezone="Asia/Shanghai",
        width=width,
        height=height,
        tags=list(tags),
        status={},
        last_seen_at=last_seen_at,
        created_at=now,
    )
    row.groups = list(groups)
    session.add(row)
    session.commit()
    return row


def group(
    session: Session, org: Organisation, name: str, now: datetime, parent: Group | None = None
) -> Group:
    row = Group(
        organisation_id=org.id, name=name, parent_id=parent.id if parent else None, created_at=now
    )
    session.add(row)
    session.commit()
    return row


def asset(
    session: Session,
    org: Organisation,
    title: str,
    now: datetime,
    kind: AssetKind = AssetKind.IMAGE,
) -> Asset:
    row = Asset(
        organisation_id=org.id,
        kind=kind,
        sha256=hashlib.sha256(f"{org.id}:{title}".encode()).hexdigest(),
        media_type="image/png" if kind is AssetKind.IMAGE else "video/mp4",
        size=1000,
        width=1920,
        height=1080,
        original_name=f"{title}.png",
        title=title,
        created_at=now,
    )
    session.add(row)
    session.commit()
    return row


def playlist(
    session: Session,
    org: Organisation,
    name: str,
    now: datetime,
    *,
    assets: Sequence[Asset] = (),
    is_default: bool = False,
    campaign: Campaign | None = None,
) -> Playlist:
    row = Playlist(
        organisation_id=org.id,
        campaign_id=campaign.id if campaign else None,
        name=name,
        is_default=is_default,
        created_at=now,
        updated_at=now,
    )
    row.items = [
        PlaylistItem(position=i, asset_id=a.id, duration_ms=10_000) for i, a in enumerate(assets)
    ]
    session.add(row)
    session.commit()
    return row


def campaign(session: Session, org: Organisation, name: str, now: datetime) -> Campaign:
    row = Campaign(
        organisation_id=org.id,
        name=name,
        timezone="Asia/Shanghai",
        start_date=date(2026, 1, 5),
        end_date=date(2026, 1, 11),
        targets={"everyone": True},
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.commit()
    return row


def schedule(session: Session, campaign_row: Campaign, playlist_row: Playlist) -> ScheduleEntry:
    row = ScheduleEntry(campaign_id=campaign_row.id, playlist_id=playlist_row.id)
    session.add(row)
    session.commit()
    return row
