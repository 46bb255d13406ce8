"""Groups of screens: create, nest, rename, delete; put screens in and take them out."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from server import clock
from server.api.registry import api
from server.api.schemas import Id, ListQuery, Name, Page, Patch, Strict, paginate
from server.auth.policy import READ, WRITE, current_actor
from server.db import get_session
from server.screens import groups as service
from server.screens.models import Group
from server.screens.views.screens import SORT as SCREEN_SORT
from server.screens.views.screens import ScreenList, screen_out

bp = Blueprint("groups", __name__, url_prefix="/groups")


class GroupIn(Strict):
    name: Name
    organisation_id: Id
    parent_id: Id | None = Field(
        default=None, description="A group of this organisation or of an ancestor"
    )


class GroupPatch(Patch):
    NULLABLE = frozenset({"parent_id"})

    name: Name | SkipJsonSchema[None] = None
    parent_id: Id | None = Field(default=None, description="null takes the group out of its parent")


class GroupOut(BaseModel):
    id: int
    name: str
    organisation_id: int
    parent_id: int | None
    created_at: datetime


class GroupList(Page[GroupOut]):
    pass


class GroupQuery(ListQuery):
    organisation_id: Id | None = None
    parent_id: Id | None = None
    top_level: bool | None = Field(default=None, description="Only groups without a parent")
    name: str | None = Field(default=None, max_length=200, description="Substring of the name")


SORT = {
    "id": Group.id,
    "name": Group.name,
    "created_at": Group.created_at,
    "organisation_id": Group.organisation_id,
}


def _out(group: Group) -> GroupOut:
    return GroupOut.model_validate(group, from_attributes=True)


@api.route(bp, "", "GET", policy=READ, summary="List groups", query=GroupQuery, response=GroupList)
def list_groups(query: GroupQuery) -> dict[str, object]:
    filters = service.GroupFilter(
        organisation_id=query.organisation_id,
        parent_id=query.parent_id,
        top_level=query.top_level,
        name=query.name,
    )
    stmt = service.groups_select(current_actor(), filters)
    return paginate(get_session(), stmt, query, SORT, _out)


@api.route(bp, "/<int:group_id>", "GET", policy=READ, summary="Get a group", response=GroupOut)
def get_group(group_id: int) -> GroupOut:
    return _out(service.get_group(get_session(), current_actor(), group_id))


@api.route(
    bp,
    "",
    "POST",
    policy=WRITE,
    summary="Create a group",
    body=GroupIn,
    response=GroupOut,
    status=201,
    extra_responses={409: "A group of that name exists in the organisation"},
)
def create_group(body: GroupIn) -> GroupOut:
    db = get_session()
    group = service.create_group(db, current_actor(), clock.now(), **body.model_dump())
    db.commit()
    return _out(group)


@api.route(
    bp,
    "/<int:group_id>",
    "PATCH",
    policy=WRITE,
    summary="Rename a group or move it under another",
    body=GroupPatch,
    response=GroupOut,
    extra_responses={409: "A group of that name exists in the organisation"},
)
def update_group(group_id: int, body: GroupPatch) -> GroupOut:
    db = get_session()
    group = service.update_group(db, current_actor(), clock.now(), group_id, body.changes())
    db.commit()
    return _out(group)


@api.route(
    bp,
    "/<int:group_id>",
    "DELETE",
    policy=WRITE,
    summary="Delete a group without sub-groups",
    extra_responses={409: "The group has sub-groups"},
)
def delete_group(group_id: int) -> None:
    db = get_session()
    service.delete_group(db, current_actor(), clock.now(), group_id)
    db.commit()


@api.route(
    bp,
    "/<int:group_id>/screens",
    "GET",
    policy=READ,
    summary="List the screens in a group and its sub-groups",
    query=ListQuery,
    response=ScreenList,
)
def list_group_screens(group_id: int, query: ListQuery) -> dict[str, object]:
    db = get_session()
    stmt = service.group_screens_select(db, current_actor(), group_id)
    return paginate(db, stmt, query, SCREEN_SORT, screen_out)


@api.route(
    bp,
    "/<int:group_id>/screens/<int:screen_id>",
    "PUT",
    policy=WRITE,
    summary="Put a screen in a group (idempotent)",
)
def add_screen(group_id: int, screen_id: int) -> None:
    db = get_session()
    service.add_screen(db, current_actor(), clock.now(), group_id, screen_id)
    db.commit()


@api.route(
    bp,
    "/<int:group_id>/screens/<int:screen_id>",
    "DELETE",
    policy=WRITE,
    summary="Take a screen out of a group (idempotent)",
)
def remove_screen(group_id: int, screen_id: int) -> None:
    db = get_session()
    service.remove_screen(db, current_actor(), clock.now(), group_id, screen_id)
    db.commit()
