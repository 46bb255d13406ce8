"""Make the database hold a bound campaign: the campaign, its playlists, items and entries.

Applying what is already there changes nothing: no row, no audit event, no new content
version. Any change sends the campaign back to draft; what was published stays live until
the campaign is published again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.assets.ingest import find_asset, slogan_asset
from server.assets.models import Asset
from server.assets.uploads import Author, MediaLimits, ingest_file
from server.auth import audit
from server.auth.actors import Actor
from server.campaigns.describe import Names
from server.campaigns.files.bind import Bound
from server.campaigns.files.plan import Change, current_state, diff, existing_campaign
from server.campaigns.files.state import CampaignState, ItemState
from server.campaigns.models import Campaign, CampaignStatus, ScheduleEntry
from server.campaigns.workflow import actor_id, back_to_draft
from server.errors import FieldError, ValidationFailed
from server.media.store import MediaStore
from server.playlists.models import Playlist, PlaylistItem

MAX_AUDITED_CHANGES = 100


@dataclass
class Applied:
    campaign: Campaign
    created: bool
    changes: list[Change]


def apply_bound(
    session: Session,
    store: MediaStore,
    limits: MediaLimits,
    bound: Bound,
    actor: Actor,
    now: datetime,
) -> Applied:
    """Create or update the campaign so that it holds exactly `bound.state`.

    New posters go through the upload path first (`ingest_file`: cleaned names, a
    thumbnail, one asset per organisation, normalised once and outside any transaction);
    the campaign's rows are then written in one transaction that the caller commits.
    """
    org, state = bound.organisation, bound.state
    actor.require(org.path, Role.OPERATOR)
    _ingest_posters(session, store, limits, org, state, actor, now)
    campaign = existing_campaign(session, org.id, state.name)
    current = current_state(session, campaign) if campaign else None
    changes = diff(current, state, Names(session))
    if campaign is not None and not changes:
        return Applied(campaign, False, [])
    created = campaign is None
    if campaign is None:
        campaign = Campaign(
            organisation_id=org.id,
            name=state.name,
            start_date=state.start_date,
            end_date=state.end_date,
            status=CampaignStatus.DRAFT,
            created_at=now,
            updated_at=now,
        )
        session.add(campaign)
    campaign.description = state.description
    campaign.timezone = state.timezone
    campaign.start_date = state.start_date
    campaign.end_date = state.end_date
    campaign.targets = state.targets
    campaign.updated_at = now
    back_to_draft(campaign)
    session.flush()
    assets = _assets(session, store, org, state, actor, now)
    playlists = _playlists(session, campaign, state, assets, current, now)
    _entries(session, campaign, state, playlists)
    for name, playlist in list(playlists.items()):
        if name not in state.playlists:
            session.delete(playlist)
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "create" if created else "update",
        "campaign",
        campaign.id,
        org.id,
        after={
            "source": "campaign file",
            "changes": [c.render() for c in changes[:MAX_AUDITED_CHANGES]],
            "more_changes": max(0, len(changes) - MAX_AUDITED_CHANGES),
        },
    )
    return Applied(campaign, created, changes)


def _assets(
    session: Session,
    store: MediaStore,
    org: Organisation,
    state: CampaignState,
    actor: Actor,
    now: datetime,
) -> dict[str, int]:
    """Asset id per content hash, importing posters and recording slogans that are new."""
    out: dict[str, int] = {}
    for items in state.playlists.values():
        for item in items:
            if item.sha256 in out:
                continue
            if item.asset_id is not None:
                out[item.sha256] = item.asset_id
                continue
            known = find_asset(session, org.id, item.sha256)
            asset = known or _new_asset(session, store, org, item, actor, now)
            out[item.sha256] = asset.id
    return out


def _ingest_posters(
    session: Session,
    store: MediaStore,
    limits: MediaLimits,
    org: Organisation,
    state: CampaignState,
    actor: Actor,
    now: datetime,
) -> None:
    for items in state.playlists.values():
        for item in items:
            if item.asset_id is not None or item.path is None or item.slogan is not None:
                continue
            if find_asset(session, org.id, item.sha256) is None:
                ingest_file(
                    session,
                    store,
                    org,
                    item.path,
                    now=now,
                    limits=limits,
                    author=Author.of(actor),
                )


def _new_asset(
    session: Session,
    store: MediaStore,
    org: Organisation,
    item: ItemState,
    actor: Actor,
    now: datetime,
) -> Asset:
    if item.slogan is not None:
        asset = slogan_asset(
            session,
            org,
            item.slogan["text"],
            item.slogan["style"],
            now,
            created_by_id=actor_id(actor),
        )
    else:  # a poster is ingested before the transaction; not finding it means it changed
        raise ValidationFailed(
            f"{item.label} changed while it was being applied",
            [FieldError("poster", "the file changed; apply again")],
        )
    if asset.sha256 != item.sha256:
        raise ValidationFailed(
            f"{item.label} changed while it was being applied",
            [FieldError("poster", "the file changed; apply again")],
        )
    audit.record(
        session,
        actor,
        now,
        "create",
        "asset",
        asset.id,
        org.id,
        after={"kind": str(asset.kind), "sha256": asset.sha256, "title": asset.title},
    )
    return asset


def _item_key(item: PlaylistItem) -> tuple[int, int, str, str]:
    return (item.asset_id, item.duration_ms, item.fit, item.transition)


def _playlists(
    session: Session,
    campaign: Campaign,
    state: CampaignState,
    assets: dict[str, int],
    current: CampaignState | None,
    now: datetime,
) -> dict[str, Playlist]:
    """The campaign's own playlists by name, each holding the wanted items."""
    mine = {
        p.name: p
        for p in session.scalars(select(Playlist).where(Playlist.campaign_id == campaign.id))
    }
    for name, items in state.playlists.items():
        wanted = [(assets[i.sha256], i.duration_ms, i.fit, i.transition) for i in items]
        playlist = mine.get(name)
        if playlist is None:
            playlist = Playlist(
                organisation_id=campaign.organisation_id,
                campaign_id=campaign.id,
                name=name,
                created_at=now,
                updated_at=now,
            )
            session.add(playlist)
            mine[name] = playlist
        elif [_item_key(i) for i in playlist.items] == wanted:
            continue
        # Delete before insert: positions are unique within a playlist.
        playlist.items.clear()
        session.flush()
        for position, (asset_id, duration, fit, transition) in enumerate(wanted):
            playlist.items.append(
                PlaylistItem(
                    position=position,
                    asset_id=asset_id,
                    duration_ms=duration,
                    fit=fit,
                    transition=transition,
                )
            )
        playlist.updated_at = now
    session.flush()
    return mine


def _entries(
    session: Session, campaign: Campaign, state: CampaignState, playlists: dict[str, Playlist]
) -> None:
    campaign.entries.clear()
    session.flush()
    for position, e in enumerate(state.entries):
        campaign.entries.append(
            ScheduleEntry(
                position=position,
                playlist_id=playlists[e.playlist].id,
                targets=e.targets,
                first_date=e.first_date,
                last_date=e.last_date,
                weekdays=list(e.weekdays) if e.weekdays is not None else None,
                windows=[list(w) for w in e.windows],
                interval_start=e.interval_start,
                interval_end=e.interval_end,
                screen_local=e.screen_local,
                priority=e.priority,
                layer=e.layer,
            )
        )
    session.flush()
