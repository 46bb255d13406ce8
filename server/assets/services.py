"""Asset records as operators see them: who may read them, retitle them, delete them.

Creating assets is `server.assets`' job (images and slogans); this is the metadata side.
An organisation's assets are readable in its whole subtree, because content flows down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.assets.models import Asset, AssetKind
from server.auth import audit
from server.auth.actors import Actor
from server.auth.scope import readable_org_clause, reads
from server.db import MAX_ID
from server.errors import Conflict, Forbidden, NotFound
from server.playlists.models import Playlist, PlaylistItem


def get_asset(session: Session, actor: Actor, asset_id: int, role: Role = Role.VIEWER) -> Asset:
    """An asset the actor can read; with a stronger `role`, one the actor may change."""
    asset = session.get(Asset, asset_id) if 0 < asset_id <= MAX_ID else None
    org = session.get(Organisation, asset.organisation_id) if asset is not None else None
    if asset is None or org is None or not reads(actor, org):
        raise NotFound(f"no asset {asset_id}")
    if role is not Role.VIEWER:
        if not actor.sees(org.path):
            raise Forbidden("assets of an ancestor organisation are read-only here")
        actor.require(org.path, role)
    return asset


def usable_by(asset_org: Organisation, org: Organisation) -> bool:
    """Content of an organisation may be used by it and by every organisation below it."""
    return org.path.startswith(asset_org.path)


def update_asset(
    session: Session, actor: Actor, now: datetime, asset_id: int, *, title: str
) -> Asset:
    asset = get_asset(session, actor, asset_id, Role.OPERATOR)
    before = {"title": asset.title}
    asset.title = title
    session.flush()
    audit.changed(session, actor, now, "update", asset, before=before, after={"title": asset.title})
    return asset


def delete_asset(session: Session, actor: Actor, now: datetime, asset_id: int) -> None:
    """Delete the record (the bytes stay in the store until collected); 409 while in use."""
    asset = get_asset(session, actor, asset_id, Role.OPERATOR)
    used = where_used(session, [asset.id]).get(asset.id)
    if used:
        names = ", ".join(used)
        raise Conflict(
            f"{asset.title or asset.id} is used by playlist {names}; remove it there first"
        )
    before = {"sha256": asset.sha256, "title": asset.title}
    audit.changed(session, actor, now, "delete", asset, before=before)
    session.delete(asset)
    session.flush()


@dataclass(frozen=True)
class AssetFilter:
    kind: AssetKind | None = None
    organisation_id: int | None = None
    sha256: str | None = None
    name: str | None = None


def assets_select(actor: Actor, filters: AssetFilter) -> Select[Asset]:
    """Assets the actor can read, narrowed by `filters`; the caller sorts and pages."""
    stmt = (
        select(Asset)
        .join(Organisation, Organisation.id == Asset.organisation_id)
        .where(readable_org_clause(actor))
    )
    if filters.kind is not None:
        stmt = stmt.where(Asset.kind == filters.kind)
    if filters.organisation_id is not None:
        stmt = stmt.where(Asset.organisation_id == filters.organisation_id)
    if filters.sha256 is not None:
        stmt = stmt.where(Asset.sha256 == filters.sha256.lower())
    if filters.name:
        stmt = stmt.where(
            or_(
                Asset.title.contains(filters.name, autoescape=True),
                Asset.original_name.contains(filters.name, autoescape=True),
            )
        )
    return stmt


def where_used(session: Session, asset_ids: Sequence[int]) -> dict[int, list[str]]:
    """The playlists each asset is in, as "name (#id)" (one query for all of them)."""
    if not asset_ids:
        return {}
    rows = session.execute(
        select(PlaylistItem.asset_id, Playlist.id, Playlist.name)
        .join(Playlist, Playlist.id == PlaylistItem.playlist_id)
        .where(PlaylistItem.asset_id.in_(sorted(set(asset_ids))))
        .distinct()
        .order_by(Playlist.name)
    ).all()
    used: dict[int, list[str]] = {}
    for asset_id, playlist_id, name in rows:
        used.setdefault(asset_id, []).append(f"{name} (#{playlist_id})")
    return used
