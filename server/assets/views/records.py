"""Assets (metadata): list, inspect, retitle and delete posters, videos and slogans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint
from pydantic import BaseModel, Field

from server import clock
from server.api.registry import api
from server.api.schemas import Id, ListQuery, Page, Strict, paginate
from server.assets import services as service
from server.assets.models import Asset, AssetKind
from server.auth.policy import READ, WRITE, current_actor
from server.db import get_session

bp = Blueprint("assets", __name__, url_prefix="/assets")


class AssetPatch(Strict):
    title: str = Field(max_length=300)


class AssetOut(BaseModel):
    id: int
    organisation_id: int
    kind: AssetKind
    sha256: str
    media_type: str
    size: int
    width: int | None
    height: int | None
    original_name: str
    title: str
    slogan: dict[str, Any] | None = Field(description="Text and style, for slogans")
    created_at: datetime


class AssetList(Page[AssetOut]):
    pass


class AssetQuery(ListQuery):
    kind: AssetKind | None = None
    organisation_id: Id | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    name: str | None = Field(
        default=None, max_length=300, description="Substring of the title or file name"
    )


SORT = {
    "id": Asset.id,
    "title": Asset.title,
    "created_at": Asset.created_at,
    "size": Asset.size,
    "kind": Asset.kind,
}


def _out(asset: Asset) -> AssetOut:
    return AssetOut.model_validate(asset, from_attributes=True)


@api.route(
    bp,
    "",
    "GET",
    policy=READ,
    summary="List assets (including those of parent organisations)",
    query=AssetQuery,
    response=AssetList,
)
def list_assets(query: AssetQuery) -> dict[str, object]:
    filters = service.AssetFilter(
        kind=query.kind,
        organisation_id=query.organisation_id,
        sha256=query.sha256,
        name=query.name,
    )
    return paginate(
        get_session(), service.assets_select(current_actor(), filters), query, SORT, _out
    )


@api.route(bp, "/<int:asset_id>", "GET", policy=READ, summary="Get an asset", response=AssetOut)
def get_asset(asset_id: int) -> AssetOut:
    return _out(service.get_asset(get_session(), current_actor(), asset_id))


@api.route(
    bp,
    "/<int:asset_id>",
    "PATCH",
    policy=WRITE,
    summary="Retitle an asset",
    body=AssetPatch,
    response=AssetOut,
)
def update_asset(asset_id: int, body: AssetPatch) -> AssetOut:
    db = get_session()
    asset = service.update_asset(db, current_actor(), clock.now(), asset_id, title=body.title)
    db.commit()
    return _out(asset)


@api.route(
    bp,
    "/<int:asset_id>",
    "DELETE",
    policy=WRITE,
    summary="Delete an asset no playlist uses",
    extra_responses={409: "A playlist still uses the asset"},
)
def delete_asset(asset_id: int) -> None:
    db = get_session()
    service.delete_asset(db, current_actor(), clock.now(), asset_id)
    db.commit()
