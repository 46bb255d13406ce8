"""Organisations: the tree that owns users, screens and content."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import BaseModel, Field

from server import clock
from server.accounts import organisations as service
from server.accounts.models import Organisation
from server.accounts.organisations import default_playlist_id, org_or_404
from server.api.registry import api
from server.api.schemas import ListQuery, Page, Strict, paginate
from server.auth.policy import ADMIN, READ, current_actor
from server.db import get_session

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


class OrganisationIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    parent_id: int = Field(
        ge=1, le=2**31 - 1, description="New organisations sit under one you administer"
    )
    timezone: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="IANA name; new screens start in it (default: the parent's)",
    )


class OrganisationPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)


class OrganisationOut(BaseModel):
    id: int
    name: str
    parent_id: int | None
    path: str
    timezone: str = Field(description="New screens of the organisation start in this zone")
    default_playlist_id: int | None = None
    created_at: datetime


class OrganisationList(Page[OrganisationOut]):
    pass


class OrganisationQuery(ListQuery):
    parent_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    name: str | None = Field(default=None, max_length=200, description="Substring of the name")


SORT = {"id": Organisation.id, "name": Organisation.name, "created_at": Organisation.created_at}


def _out(org: Organisation) -> OrganisationOut:
    out = OrganisationOut.model_validate(org, from_attributes=True)
    out.default_playlist_id = default_playlist_id(get_session(), org.id)
    return out


@api.route(
    bp,
    "",
    "GET",
    policy=READ,
    summary="List organisations",
    query=OrganisationQuery,
    response=OrganisationList,
)
def list_organisations(query: OrganisationQuery) -> dict[str, object]:
    stmt = service.organisations_select(current_actor(), query.parent_id, query.name)
    return paginate(get_session(), stmt, query, SORT, _out)


@api.route(
    bp, "/<int:org_id>", "GET", policy=READ, summary="Get an organisation", response=OrganisationOut
)
def get_organisation(org_id: int) -> OrganisationOut:
    return _out(org_or_404(get_session(), current_actor(), org_id))


@api.route(
    bp,
    "",
    "POST",
    policy=ADMIN,
    summary="Create an organisation",
    body=OrganisationIn,
    response=OrganisationOut,
    status=201,
)
def create(body: OrganisationIn) -> OrganisationOut:
    db = get_session()
    org = service.add_child(
        db,
        current_actor(),
        clock.now(),
        name=body.name,
        parent_id=body.parent_id,
        timezone=body.timezone,
    )
    db.commit()
    return _out(org)


@api.route(
    bp,
    "/<int:org_id>",
    "PATCH",
    policy=ADMIN,
    summary="Rename an organisation or change its time zone",
    body=OrganisationPatch,
    response=OrganisationOut,
)
def update(org_id: int, body: OrganisationPatch) -> OrganisationOut:
    db = get_session()
    org = service.rename(
        db, current_actor(), clock.now(), org_id, body.name, timezone=body.timezone
    )
    db.commit()
    return _out(org)


@api.route(
    bp,
    "/<int:org_id>",
    "DELETE",
    policy=ADMIN,
    summary="Delete an empty organisation",
    extra_responses={409: "The organisation still owns something"},
)
def delete(org_id: int) -> None:
    service.delete(get_session(), current_actor(), clock.now(), org_id)
