"""Organisations: the tree that owns users, screens and content."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server import clock
from server.accounts.models import Organisation, Role
from server.accounts.organisations import create_child, default_playlist_id, org_or_404
from server.api.registry import api
from server.api.schemas import ListQuery, Page, Strict, paginate
from server.auth import audit
from server.auth.policy import ADMIN, READ, current_actor
from server.auth.scope import in_scope
from server.db import get_session
from server.errors import Conflict, FieldError

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


class OrganisationIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    parent_id: int = Field(
        ge=1, le=2**31 - 1, description="New organisations sit under one you administer"
    )


class OrganisationPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class OrganisationOut(BaseModel):
    id: int
    name: str
    parent_id: int | None
    path: str
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
    actor = current_actor()
    stmt = select(Organisation).where(in_scope(actor))
    if query.parent_id is not None:
        stmt = stmt.where(Organisation.parent_id == query.parent_id)
    if query.name:
        stmt = stmt.where(Organisation.name.contains(query.name, autoescape=True))
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
    org = create_child(db, current_actor(), clock.now(), parent_id=body.parent_id, name=body.name)
    db.commit()
    return _out(org)


@api.route(
    bp,
    "/<int:org_id>",
    "PATCH",
    policy=ADMIN,
    summary="Rename an organisation",
    body=OrganisationPatch,
    response=OrganisationOut,
)
def update(org_id: int, body: OrganisationPatch) -> OrganisationOut:
    db, actor = get_session(), current_actor()
    org = org_or_404(db, actor, org_id)
    actor.require(org.path, Role.ADMIN)
    before = {"name": org.name}
    if body.name is not None and body.name != org.name:
        if db.scalar(select(Organisation.id).where(Organisation.name == body.name)) is not None:
            raise Conflict(
                f"an organisation named {body.name!r} exists", [FieldError("name", "already taken")]
            )
        org.name = body.name
    after = {"name": org.name}
    audit.record(
        db, actor, clock.now(), "update", "organisation", org.id, org.id, before=before, after=after
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
    db, actor = get_session(), current_actor()
    org = org_or_404(db, actor, org_id)
    actor.require(org.path, Role.ADMIN)
    if org.parent_id is None:
        raise Conflict("the root organisation cannot be deleted")
    audit.record(
        db,
        actor,
        clock.now(),
        "delete",
        "organisation",
        org.id,
        org.parent_id,
        before={"name": org.name},
    )
    db.delete(org)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(
            "the organisation still has members, screens, content or sub-organisations"
        ) from None
