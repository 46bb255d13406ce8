"""What the benchmarks share to set a server up: one campaign for every screen, playing
posters in a loop, published (the poll, player and soak benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from server.assets.models import Asset
from server.campaigns import workflow
from server.campaigns.models import Campaign, CampaignStatus, Publication, ScheduleEntry
from server.config import Settings
from server.playlists.models import Playlist, PlaylistItem


def publish_posters(
    session: Session,
    settings: Settings,
    organisation_id: int,
    assets: Sequence[Asset],
    *,
    name: str,
    duration_ms: int,
    dates: tuple[date, date],
    now: datetime,
) -> Publication:
    """Campaign `name` of one playlist of `assets`, each `duration_ms` on screen, for every
    screen from `dates[0]` to `dates[1]` (Asia/Shanghai), published at `now`."""
    campaign = Campaign(
        organisation_id=organisation_id,
        name=name,
        description="",
        timezone="Asia/Shanghai",
        start_date=dates[0],
        end_date=dates[1],
        targets={"everyone": True},
        status=CampaignStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    session.flush()
    playlist = Playlist(
        organisation_id=organisation_id,
        campaign_id=campaign.id,
        name=name.lower(),
        description="",
        is_default=False,
        created_at=now,
        updated_at=now,
    )
    playlist.items = [
        PlaylistItem(position=i, asset_id=a.id, asset=a, duration_ms=duration_ms)
        for i, a in enumerate(assets)
    ]
    session.add(playlist)
    session.flush()
    campaign.entries.append(ScheduleEntry(position=0, playlist_id=playlist.id, playlist=playlist))
    session.flush()
    return workflow.publish(session, campaign, workflow.SYSTEM, now, settings)
