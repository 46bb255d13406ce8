"""Playlists: ordered items of assets with durations; one may be its organisation's default."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from server import clock
from server.api.registry import api
from server.api.schemas import Id, ListQuery, Name, Page, Patch, Strict, paginate
from server.auth.policy import READ, WRITE, current_actor
from server.db import get_session
from server.playlists import services as service
from server.playlists.models import Playlist

bp = Blueprint("playlists", __name__, url_prefix="/playlists")

CAMPAIGN_OWNED = {409: "The playlist belongs to a campaign (edit the campaign), or is in use"}


# Up to MAX_ITEMS items of about 90 bytes each: more than the 64 KiB other JSON routes take.
ITEMS_MAX_BYTES = 256 * 1024


class ItemIn(Strict):
    asset_id: Id = Field(description="An asset of the playlist's organisation or an ancestor")
    duration_ms: int = Field(ge=service.MIN_DURATION_MS, le=service.MAX_DURATION_MS)
    fit: Literal["contain", "cover"] = "contain"
    transition: Literal["cut", "crossfade"] = "cut"

    def spec(self) -> service.ItemSpec:
        return service.ItemSpec(self.asset_id, self.duration_ms, self.fit, self.transition)


class ItemsIn(Strict):
    items: list[ItemIn] = Field(max_length=service.MAX_ITEMS)


class PlaylistIn(Strict):
    name: Name
    organisation_id: Id
    description: str = Field(default="", max_length=1000)
    is_default: bool = Field(
        default=False, description="Play on the organisation's screens when nothing is scheduled"
    )
    items: list[ItemIn] = Field(default_factory=list, max_length=service.MAX_ITEMS)


class PlaylistPatch(Patch):
    name: Name | SkipJsonSchema[None] = None
    description: str | SkipJsonSchema[None] = Field(default=None, max_length=1000)
    is_default: bool | SkipJsonSchema[None] = None


class ItemOut(BaseModel):
    position: int
    asset_id: int
    sha256: str
    duration_ms: int
    fit: str
    transition: str


class PlaylistSummary(BaseModel):
    id: int
    organisation_id: int
    campaign_id: int | None = Field(description="Set when the playlist belongs to a campaign")
    name: str
    description: str
    is_default: bool
    item_count: int
    duration_ms: int = Field(description="One full cycle")
    created_at: datetime
    updated_at: datetime


class PlaylistOut(PlaylistSummary):
    items: list[ItemOut]


class PlaylistList(Page[PlaylistSummary]):
    pass


class PlaylistQuery(ListQuery):
    organisation_id: Id | None = None
    campaign_id: Id | None = None
    standalone: bool | None = Field(default=None, description="Only playlists of no campaign")
    is_default: bool | None = None
    name: str | None = Field(default=None, max_length=200, description="Substring of the name")


SORT = {
    "id": Playlist.id,
    "name": Playlist.name,
    "created_at": Playlist.created_at,
    "updated_at": Playlist.updated_at,
}


def _summary(p: Playlist) -> PlaylistSummary:
    return PlaylistSummary(
        id=p.id,
        organisation_id=p.organisation_id,
        campaign_id=p.campaign_id,
        name=p.name,
        description=p.description,
        is_default=p.is_default,
        item_count=len(p.items),
        duration_ms=sum(i.duration_ms for i in p.items),
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def _out(p: Playlist) -> PlaylistOut:
    items = [
        ItemOut(
            position=i.position,
            asset_id=i.asset_id,
            sha256=i.asset.sha256,
            duration_ms=i.duration_ms,
            fit=i.fit,
            transition=i.transition,
        )
        for i in p.items
    ]
    return PlaylistOut(**_summary(p).model_dump(), items=items)


@api.route(
    bp, "", "GET", policy=READ, summary="List playlists", query=PlaylistQuery, response=PlaylistList
)
def list_playlists(query: PlaylistQuery) -> dict[str, object]:
    filters = service.PlaylistFilter(
        organisation_id=query.organisation_id,
        campaign_id=query.campaign_id,
        standalone=query.standalone,
        is_default=query.is_default,
        name=query.name,
    )
    stmt = service.playlists_select(current_actor(), filters)
    return paginate(get_session(), stmt, query, SORT, _summary)


@api.route(
    bp, "/<int:playlist_id>", "GET", policy=READ, summary="Get a playlist", response=PlaylistOut
)
def get_playlist(playlist_id: int) -> PlaylistOut:
    return _out(service.get_playlist(get_session(), current_actor(), playlist_id))


@api.route(
    bp,
    "",
    "POST",
    policy=WRITE,
    summary="Create a playlist",
    body=PlaylistIn,
    max_body=ITEMS_MAX_BYTES,
    response=PlaylistOut,
    status=201,
    extra_responses={409: "A playlist of that name exists in the organisation"},
)
def create_playlist(body: PlaylistIn) -> PlaylistOut:
    db = get_session()
    playlist = service.create_playlist(
        db,
        current_actor(),
        clock.now(),
        organisation_id=body.organisation_id,
        name=body.name,
        description=body.description,
        is_default=body.is_default,
        items=[i.spec() for i in body.items],
    )
    db.commit()
    return _out(playlist)


@api.route(
    bp,
    "/<int:playlist_id>",
    "PATCH",
    policy=WRITE,
    summary="Rename, describe, or make the organisation's default",
    body=PlaylistPatch,
    response=PlaylistOut,
    extra_responses=CAMPAIGN_OWNED,
)
def update_playlist(playlist_id: int, body: PlaylistPatch) -> PlaylistOut:
    db = get_session()
    playlist = service.update_playlist(
        db, current_actor(), clock.now(), playlist_id, body.changes()
    )
    db.commit()
    return _out(playlist)


@api.route(
    bp,
    "/<int:playlist_id>/items",
    "PUT",
    policy=WRITE,
    summary="Replace the playlist's items, in order",
    body=ItemsIn,
    max_body=ITEMS_MAX_BYTES,
    response=PlaylistOut,
    extra_responses=CAMPAIGN_OWNED,
)
def replace_items(playlist_id: int, body: ItemsIn) -> PlaylistOut:
    db = get_session()
    specs = [i.spec() for i in body.items]
    playlist = service.replace_items(db, current_actor(), clock.now(), playlist_id, specs)
    db.commit()
    return _out(playlist)


@api.route(
    bp,
    "/<int:playlist_id>",
    "DELETE",
    policy=WRITE,
    summary="Delete a playlist no campaign schedules",
    extra_responses=CAMPAIGN_OWNED,
)
def delete_playlist(playlist_id: int) -> None:
    db = get_session()
    service.delete_playlist(db, current_actor(), clock.now(), playlist_id)
    db.commit()
