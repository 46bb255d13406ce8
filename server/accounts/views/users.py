"""Users and their roles per organisation, managed by admins within their own subtrees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from server import clock
from server.accounts import users as service
from server.accounts.models import Role, User
from server.api.registry import api
from server.api.schemas import Id, ListQuery, Page, Password, Patch, Strict, paginate
from server.auth.actors import Actor
from server.auth.policy import ADMIN, current_actor
from server.db import get_session

bp = Blueprint("users", __name__, url_prefix="/users")


class UserIn(Strict):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(default="", max_length=200)
    password: Password
    organisation_id: Id
    role: Role


class UserPatch(Patch):
    name: str | SkipJsonSchema[None] = Field(default=None, max_length=200)
    active: bool | SkipJsonSchema[None] = None
    password: Password | SkipJsonSchema[None] = None


class MembershipIn(Strict):
    organisation_id: Id
    role: Role


class RoleIn(Strict):
    role: Role


class MembershipOut(BaseModel):
    organisation_id: int
    organisation: str
    role: Role


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    active: bool
    created_at: datetime
    memberships: list[MembershipOut] = Field(description="Those inside your organisations")


class UserList(Page[UserOut]):
    pass


class UserQuery(ListQuery):
    organisation_id: Id | None = Field(default=None, description="Members of this organisation")
    q: str | None = Field(default=None, max_length=320, description="Substring of email or name")
    active: bool | None = None


SORT = {"id": User.id, "email": User.email, "name": User.name, "created_at": User.created_at}
CONFLICTS = {409: "The change conflicts with existing data or would lock you out"}


def _shape(actor: Actor) -> Callable[[User], UserOut]:
    """Users as this actor may see them: only memberships inside the actor's subtrees."""

    def out(user: User) -> UserOut:
        return UserOut(
            id=user.id,
            email=user.email,
            name=user.name,
            active=user.active,
            created_at=user.created_at,
            memberships=[
                MembershipOut(
                    organisation_id=m.organisation_id, organisation=m.organisation.name, role=m.role
                )
                for m in service.visible_memberships(actor, user)
            ],
        )

    return out


@api.route(bp, "", "GET", policy=ADMIN, summary="List users", query=UserQuery, response=UserList)
def list_users(query: UserQuery) -> dict[str, object]:
    actor = current_actor()
    filters = service.UserFilter(
        organisation_id=query.organisation_id, q=query.q, active=query.active
    )
    return paginate(get_session(), service.users_select(actor, filters), query, SORT, _shape(actor))


@api.route(bp, "/<int:user_id>", "GET", policy=ADMIN, summary="Get a user", response=UserOut)
def get_user(user_id: int) -> UserOut:
    actor = current_actor()
    return _shape(actor)(service.get_user(get_session(), actor, user_id))


@api.route(
    bp,
    "",
    "POST",
    policy=ADMIN,
    summary="Create a user with a role in one organisation",
    body=UserIn,
    response=UserOut,
    status=201,
    extra_responses={409: "A user with that email exists"},
)
def create_user(body: UserIn) -> UserOut:
    db, actor = get_session(), current_actor()
    user = service.create_user(db, actor, clock.now(), **body.model_dump())
    db.commit()
    return _shape(actor)(user)


@api.route(
    bp,
    "/<int:user_id>",
    "PATCH",
    policy=ADMIN,
    summary="Rename, (de)activate or set the password of a user",
    body=UserPatch,
    response=UserOut,
    extra_responses=CONFLICTS,
)
def update_user(user_id: int, body: UserPatch) -> UserOut:
    db, actor = get_session(), current_actor()
    user = service.update_user(db, actor, clock.now(), user_id, body.changes())
    db.commit()
    return _shape(actor)(user)


@api.route(
    bp, "/<int:user_id>", "DELETE", policy=ADMIN, summary="Delete a user", extra_responses=CONFLICTS
)
def delete_user(user_id: int) -> None:
    db = get_session()
    service.delete_user(db, current_actor(), clock.now(), user_id)
    db.commit()


@api.route(
    bp,
    "/<int:user_id>/memberships",
    "POST",
    policy=ADMIN,
    summary="Give a user a role in another organisation",
    body=MembershipIn,
    response=UserOut,
    status=201,
    extra_responses=CONFLICTS,
)
def add_membership(user_id: int, body: MembershipIn) -> UserOut:
    db, actor = get_session(), current_actor()
    membership = service.add_membership(
        db, actor, clock.now(), user_id, body.organisation_id, body.role
    )
    db.commit()
    return _shape(actor)(membership.user)


@api.route(
    bp,
    "/<int:user_id>/memberships/<int:organisation_id>",
    "PATCH",
    policy=ADMIN,
    summary="Change a user's role in an organisation",
    body=RoleIn,
    response=UserOut,
    extra_responses=CONFLICTS,
)
def change_membership(user_id: int, organisation_id: int, body: RoleIn) -> UserOut:
    db, actor = get_session(), current_actor()
    membership = service.change_membership(
        db, actor, clock.now(), user_id, organisation_id, body.role
    )
    db.commit()
    return _shape(actor)(membership.user)


@api.route(
    bp,
    "/<int:user_id>/memberships/<int:organisation_id>",
    "DELETE",
    policy=ADMIN,
    summary="Remove a user's role in an organisation",
    extra_responses=CONFLICTS,
)
def remove_membership(user_id: int, organisation_id: int) -> None:
    db = get_session()
    service.remove_membership(db, current_actor(), clock.now(), user_id, organisation_id)
    db.commit()
