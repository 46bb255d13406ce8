"""Standalone playlists: their ordered items, and each organisation's default playlist.

Screens play default playlists live (campaign content is frozen at publish), so any change a
screen could see in a default playlist — its flag, name or items — bumps the content version
in the same transaction. Such a change goes on screens with no campaign approval, so it needs
the approver role, and flagging or unflagging a default is audited on its own. An edit of a
playlist a submitted, approved or published campaign schedules sends that campaign back to
draft (`server.campaigns.workflow.playlist_edited`). Playlists written inside a campaign are
edited through the campaign.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.assets.models import Asset
from server.assets.services import usable_by
from server.auth import audit
from server.auth.actors import ROLE_RANK, Actor
from server.auth.scope import in_scope
from server.campaigns import versions as content_version
from server.campaigns.models import ScheduleEntry
from server.campaigns.workflow import playlist_edited
from server.db import MAX_ID
from server.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from server.playlists.models import FITS, TRANSITIONS, Playlist, PlaylistItem

MIN_DURATION_MS = 1000
MAX_DURATION_MS = 86_400_000
MAX_ITEMS = 1000
EDITABLE = ("name", "description", "is_default")


@dataclass(frozen=True)
class ItemSpec:
    asset_id: int
    duration_ms: int
    fit: str = "contain"
    transition: str = "cut"


def get_playlist(
    session: Session, actor: Actor, playlist_id: int, role: Role = Role.VIEWER
) -> Playlist:
    playlist = session.get(Playlist, playlist_id) if 0 < playlist_id <= MAX_ID else None
    org = session.get(Organisation, playlist.organisation_id) if playlist is not None else None
    if playlist is None or org is None or not actor.sees(org.path):
        raise NotFound(f"no playlist {playlist_id}")
    actor.require(org.path, role)
    return playlist


def _editable(
    session: Session, actor: Actor, playlist_id: int, campaign_id: int | None = None
) -> Playlist:
    """A playlist the actor may edit: a standalone one, or one of `campaign_id`'s own."""
    playlist = get_playlist(session, actor, playlist_id, Role.OPERATOR)
    if playlist.campaign_id is not None and playlist.campaign_id != campaign_id:
        raise Conflict(
            f"playlist {playlist.id} belongs to campaign {playlist.campaign_id}; edit the campaign"
        )
    return playlist


def _require_approver(session: Session, actor: Actor, org_id: int, what: str) -> None:
    """What a default playlist shows goes on screens unapproved: only an approver may change it."""
    org = session.get(Organisation, org_id)
    assert org is not None
    have = actor.role_in(org.path)
    if have is None or ROLE_RANK[have] < ROLE_RANK[Role.APPROVER]:
        raise Forbidden(
            f"{what} needs the approver role: a default playlist goes on screens unapproved",
            [FieldError("is_default", "needs the approver role")],
        )


def _name_free(session: Session, org_id: int, name: str, playlist_id: int | None = None) -> None:
    # The table's unique key includes campaign_id, and NULLs never collide: check here.
    stmt = select(Playlist.id).where(
        Playlist.organisation_id == org_id, Playlist.campaign_id.is_(None), Playlist.name == name
    )
    if playlist_id is not None:
        stmt = stmt.where(Playlist.id != playlist_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            f"a playlist named {name!r} exists here", [FieldError("name", "already taken")]
        )


def check_items(
    session: Session, org: Organisation, items: Sequence[ItemSpec], field: str = "items"
) -> list[PlaylistItem]:
    """New item rows for `items`, each checked; assets must be of `org` or an ancestor."""
    if len(items) > MAX_ITEMS:
        raise ValidationFailed(
            f"at most {MAX_ITEMS} items", [FieldError(field, f"at most {MAX_ITEMS} items")]
        )
    rows = []
    for i, spec in enumerate(items):
        at = f"{field}[{i}]"
        if not MIN_DURATION_MS <= spec.duration_ms <= MAX_DURATION_MS:
            raise ValidationFailed(
                f"item {i}: duration out of range",
                [FieldError(f"{at}.duration_ms", f"{MIN_DURATION_MS}..{MAX_DURATION_MS}")],
            )
        if spec.fit not in FITS:
            raise ValidationFailed(
                f"item {i}: unknown fit", [FieldError(f"{at}.fit", "one of: " + ", ".join(FITS))]
            )
        if spec.transition not in TRANSITIONS:
            raise ValidationFailed(
                f"item {i}: unknown transition",
                [FieldError(f"{at}.transition", "one of: " + ", ".join(TRANSITIONS))],
            )
        asset = session.get(Asset, spec.asset_id) if 0 < spec.asset_id <= MAX_ID else None
        asset_org = session.get(Organisation, asset.organisation_id) if asset else None
        if asset is None or asset_org is None or not usable_by(asset_org, org):
            raise ValidationFailed(
                f"item {i}: no asset {spec.asset_id} usable by this organisation",
                [FieldError(f"{at}.asset_id", "no such asset here or in a parent organisation")],
            )
        rows.append(
            PlaylistItem(
                position=i,
                asset_id=asset.id,
                asset=asset,
                duration_ms=spec.duration_ms,
                fit=spec.fit,
                transition=spec.transition,
            )
        )
    return rows


def audit_summary(playlist: Playlist) -> dict[str, Any]:
    return {
        "name": playlist.name,
        "description": playlist.description,
        "is_default": playlist.is_default,
        "items": [[i.asset_id, i.duration_ms, i.fit, i.transition] for i in playlist.items],
    }


def set_default(
    session: Session, actor: Actor, playlist: Playlist, is_default: bool, now: datetime
) -> None:
    """Flag (or unflag) the organisation's default playlist, clearing any previous one.

    Needs the approver role in the playlist's organisation; audited as `set_default` or
    `unset_default`."""
    if playlist.campaign_id is not None and is_default:
        raise ValidationFailed(
            "a campaign's playlist cannot be a default",
            [FieldError("is_default", "campaign playlists cannot be defaults")],
        )
    if playlist.is_default == is_default:
        return
    _require_approver(session, actor, playlist.organisation_id, "changing the default playlist")
    if is_default:
        session.execute(
            update(Playlist)
            .where(
                Playlist.organisation_id == playlist.organisation_id,
                Playlist.is_default.is_(True),
                Playlist.id != playlist.id,
            )
            .values(is_default=False, updated_at=now)
            .execution_options(synchronize_session="fetch")
        )
    playlist.is_default = is_default
    content_version.bump(session, action="defaults", now=now)
    session.flush()
    action = "set_default" if is_default else "unset_default"
    audit.changed(session, actor, now, action, playlist, after={"name": playlist.name})


def create_playlist(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    organisation_id: int,
    name: str,
    description: str = "",
    is_default: bool = False,
    items: Sequence[ItemSpec] = (),
) -> Playlist:
    org = session.get(Organisation, organisation_id) if 0 < organisation_id <= MAX_ID else None
    if org is None or not actor.sees(org.path):
        raise NotFound(f"no organisation {organisation_id}")
    actor.require(org.path, Role.OPERATOR)
    _name_free(session, org.id, name)
    playlist = Playlist(
        organisation_id=org.id,
        campaign_id=None,
        name=name,
        description=description,
        is_default=False,
        created_at=now,
        updated_at=now,
    )
    playlist.items = check_items(session, org, items)
    session.add(playlist)
    session.flush()
    if is_default:
        set_default(session, actor, playlist, True, now)
    session.flush()
    audit.changed(session, actor, now, "create", playlist, after=audit_summary(playlist))
    return playlist


def update_playlist(
    session: Session, actor: Actor, now: datetime, playlist_id: int, changes: Mapping[str, Any]
) -> Playlist:
    """Rename, describe, or flag/unflag as the organisation's default."""
    playlist = _editable(session, actor, playlist_id)
    unknown = set(changes) - set(EDITABLE)
    nulls = [k for k, v in changes.items() if v is None]
    if unknown or nulls:
        raise ValidationFailed(
            "cannot set these fields",
            [FieldError(f, "cannot be changed") for f in sorted(unknown)]
            + [FieldError(f, "must not be null") for f in nulls],
        )
    before = audit_summary(playlist)
    if "name" in changes and changes["name"] != playlist.name:
        _name_free(session, playlist.organisation_id, changes["name"], playlist.id)
        if playlist.is_default:  # the name travels in manifests
            _require_approver(session, actor, playlist.organisation_id, "renaming a default")
            content_version.bump(session, action="defaults", now=now)
        playlist.name = changes["name"]
        playlist_edited(session, playlist.id, actor, now, "renamed")
    if "description" in changes:
        playlist.description = changes["description"]
    if "is_default" in changes:
        set_default(session, actor, playlist, bool(changes["is_default"]), now)
    playlist.updated_at = now
    session.flush()
    after = audit_summary(playlist)
    audit.changed(session, actor, now, "update", playlist, before=before, after=after)
    return playlist


def replace_items(
    session: Session,
    actor: Actor,
    now: datetime,
    playlist_id: int,
    items: Sequence[ItemSpec],
    *,
    campaign_id: int | None = None,
) -> Playlist:
    """Replace the whole ordered list at once; nothing changes if any item is refused.

    A campaign's own playlist is edited through its campaign: pass `campaign_id`.
    """
    playlist = _editable(session, actor, playlist_id, campaign_id)
    org = session.get(Organisation, playlist.organisation_id)
    assert org is not None
    if playlist.is_default:
        _require_approver(session, actor, playlist.organisation_id, "editing a default's items")
    rows = check_items(session, org, items)
    before = audit_summary(playlist)
    playlist.items.clear()
    session.flush()  # positions are unique per playlist: old rows go before new ones come
    playlist.items.extend(rows)
    playlist.updated_at = now
    if playlist.is_default:
        content_version.bump(session, action="defaults", now=now)
    if before["items"] != audit_summary(playlist)["items"]:
        playlist_edited(session, playlist.id, actor, now, "items changed")
    session.flush()
    audit.changed(
        session, actor, now, "update_items", playlist, before=before, after=audit_summary(playlist)
    )
    return playlist


def delete_playlist(session: Session, actor: Actor, now: datetime, playlist_id: int) -> None:
    playlist = _editable(session, actor, playlist_id)
    used = session.scalar(
        select(ScheduleEntry.campaign_id).where(ScheduleEntry.playlist_id == playlist.id).limit(1)
    )
    if used is not None:
        raise Conflict(f"playlist {playlist.id} is scheduled by campaign {used}")
    if playlist.is_default:
        _require_approver(session, actor, playlist.organisation_id, "deleting a default")
        content_version.bump(session, action="defaults", now=now)
    audit.changed(session, actor, now, "delete", playlist, before=audit_summary(playlist))
    session.delete(playlist)
    session.flush()


@dataclass(frozen=True)
class PlaylistFilter:
    organisation_id: int | None = None
    campaign_id: int | None = None
    standalone: bool | None = None
    is_default: bool | None = None
    name: str | None = None


def playlists_select(actor: Actor, filters: PlaylistFilter) -> Select[Playlist]:
    """Playlists the actor sees, narrowed by `filters`; the caller sorts and pages."""
    stmt = (
        select(Playlist)
        .join(Organisation, Organisation.id == Playlist.organisation_id)
        .where(in_scope(actor))
    )
    if filters.organisation_id is not None:
        stmt = stmt.where(Playlist.organisation_id == filters.organisation_id)
    if filters.campaign_id is not None:
        stmt = stmt.where(Playlist.campaign_id == filters.campaign_id)
    if filters.standalone is not None:
        on_own = Playlist.campaign_id.is_(None)
        stmt = stmt.where(on_own if filters.standalone else ~on_own)
    if filters.is_default is not None:
        stmt = stmt.where(Playlist.is_default.is_(filters.is_default))
    if filters.name:
        stmt = stmt.where(Playlist.name.contains(filters.name, autoescape=True))
    return stmt
