"""Screens: pre-register, describe, tag and group them; see which are online."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from server import clock
from server.api.registry import api
from server.api.schemas import (
    GroupIds,
    Id,
    ListQuery,
    Name,
    Page,
    Patch,
    Strict,
    Tag,
    Tags,
    paginate,
)
from server.auth.policy import READ, WRITE, current_actor
from server.config import Settings
from server.db import get_session
from server.screens import services as service
from server.screens.models import Screen

bp = Blueprint("screens", __name__, url_prefix="/screens")


class ScreenIn(Strict):
    name: Name
    organisation_id: Id
    timezone: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="IANA name (default: the organisation's)",
    )
    width: int = Field(default=1920, ge=1, le=16384, description="Pixels")
    height: int = Field(default=1080, ge=1, le=16384, description="Pixels")
    location: str = Field(default="", max_length=300)
    tags: Tags = Field(default_factory=list)
    group_ids: GroupIds = Field(default_factory=list)


class ScreenPatch(Patch):
    name: Name | SkipJsonSchema[None] = None
    timezone: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=64)
    width: int | SkipJsonSchema[None] = Field(default=None, ge=1, le=16384)
    height: int | SkipJsonSchema[None] = Field(default=None, ge=1, le=16384)
    location: str | SkipJsonSchema[None] = Field(default=None, max_length=300)
    tags: Tags | SkipJsonSchema[None] = None
    group_ids: GroupIds | SkipJsonSchema[None] = None


class ScreenOut(BaseModel):
    id: int
    name: str
    organisation_id: int
    timezone: str
    width: int
    height: int
    orientation: str = Field(description="landscape or portrait")
    location: str
    tags: list[str]
    group_ids: list[int]
    paired: bool = Field(description="A player holds this screen's device token")
    last_seen_at: datetime | None
    online: bool
    status: dict[str, Any] = Field(description="The player's latest status report")
    created_at: datetime


class ScreenList(Page[ScreenOut]):
    pass


class ScreenQuery(ListQuery):
    organisation_id: Id | None = None
    group_id: Id | None = Field(default=None, description="Includes the group's sub-groups")
    tag: Tag | None = None
    name: str | None = Field(default=None, max_length=200, description="Substring of the name")
    online: bool | None = None


SORT = {
    "id": Screen.id,
    "name": Screen.name,
    "created_at": Screen.created_at,
    "last_seen_at": Screen.last_seen_at,
    "organisation_id": Screen.organisation_id,
}


def _settings() -> Settings:
    settings: Settings = current_app.config["SIGNAGE"]
    return settings


def screen_out(screen: Screen) -> ScreenOut:
    """The operator's view of a screen (shared with the groups resource)."""
    return ScreenOut(
        id=screen.id,
        name=screen.name,
        organisation_id=screen.organisation_id,
        timezone=screen.timezone,
        width=screen.width,
        height=screen.height,
        orientation=screen.orientation,
        location=screen.location,
        tags=list(screen.tags or []),
        group_ids=sorted(g.id for g in screen.groups),
        paired=screen.device_token_hash is not None,
        last_seen_at=screen.last_seen_at,
        online=service.is_online(screen.last_seen_at, clock.now(), _settings()),
        status=dict(screen.status or {}),
        created_at=screen.created_at,
    )


@api.route(
    bp, "", "GET", policy=READ, summary="List screens", query=ScreenQuery, response=ScreenList
)
def list_screens(query: ScreenQuery) -> dict[str, object]:
    db = get_session()
    filters = service.ScreenFilter(
        organisation_id=query.organisation_id,
        group_id=query.group_id,
        tag=query.tag,
        name=query.name,
        online=query.online,
    )
    stmt = service.screens_select(db, current_actor(), filters, clock.now(), _settings())
    return paginate(db, stmt, query, SORT, screen_out)


@api.route(bp, "/<int:screen_id>", "GET", policy=READ, summary="Get a screen", response=ScreenOut)
def get_screen(screen_id: int) -> ScreenOut:
    return screen_out(service.get_screen(get_session(), current_actor(), screen_id))


@api.route(
    bp,
    "",
    "POST",
    policy=WRITE,
    summary="Pre-register a screen",
    body=ScreenIn,
    response=ScreenOut,
    status=201,
    extra_responses={409: "A screen of that name exists in the organisation"},
)
def create_screen(body: ScreenIn) -> ScreenOut:
    db = get_session()
    screen = service.create_screen(db, current_actor(), clock.now(), **body.model_dump())
    db.commit()
    return screen_out(screen)


@api.route(
    bp,
    "/<int:screen_id>",
    "PATCH",
    policy=WRITE,
    summary="Change a screen's details, tags or groups",
    body=ScreenPatch,
    response=ScreenOut,
    extra_responses={409: "A screen of that name exists in the organisation"},
)
def update_screen(screen_id: int, body: ScreenPatch) -> ScreenOut:
    db = get_session()
    screen = service.update_screen(db, current_actor(), clock.now(), screen_id, body.changes())
    db.commit()
    return screen_out(screen)


@api.route(bp, "/<int:screen_id>", "DELETE", policy=WRITE, summary="Delete a screen")
def delete_screen(screen_id: int) -> None:
    db = get_session()
    service.delete_screen(db, current_actor(), clock.now(), screen_id)
    db.commit()
