"""Users and their memberships, as admins manage them within the subtrees they administer.

An admin sees a user who holds a role in an organisation the admin administers, and sees only
those of the user's memberships that lie in the admin's own subtrees. Changing the person
(name, password, active, deletion) needs admin rights over every one of their memberships,
so an admin of one tree cannot lock out someone who also works for another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import Session

from server.accounts.models import Membership, Organisation, Role, User
from server.auth import audit
from server.auth.actors import MIN_PASSWORD_LENGTH, Actor, hash_password
from server.auth.scope import role_clause
from server.auth.sessions import end_user_sessions
from server.db import MAX_ID
from server.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from server.scheduling.localtime import check_zone

EDITABLE = ("name", "active", "password")
CONSOLE_LOCALES = ("en", "zh_CN")


def administered_users(actor: Actor) -> ColumnElement[bool]:
    """Users with a membership in an organisation the actor administers."""
    return exists(
        select(Membership.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == User.id, role_clause(actor, Organisation.path, Role.ADMIN))
    )


def _administers(actor: Actor, org: Organisation) -> bool:
    return actor.role_in(org.path) is Role.ADMIN


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """A user the actor administers in at least one organisation, else 404."""
    user = session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None or not any(_administers(actor, m.organisation) for m in user.memberships):
        raise NotFound(f"no user {user_id}")
    return user


def visible_memberships(actor: Actor, user: User) -> list[Membership]:
    """The user's memberships inside the actor's subtrees, by organisation id."""
    seen = [m for m in user.memberships if actor.sees(m.organisation.path)]
    return sorted(seen, key=lambda m: m.organisation_id)


def require_whole_user(actor: Actor, user: User) -> None:
    """Changing the person (password, tokens, active flag) needs admin over all of them."""
    if not all(_administers(actor, m.organisation) for m in user.memberships):
        raise Forbidden(
            f"user {user.id} also belongs to organisations you do not administer; "
            "an admin of those must make this change"
        )


def _org(session: Session, actor: Actor, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id) if 0 < org_id <= MAX_ID else None
    if org is None or not actor.sees(org.path):
        raise NotFound(f"no organisation {org_id}")
    actor.require(org.path, Role.ADMIN)
    return org


def audit_summary(user: User) -> dict[str, Any]:
    return {"email": user.email, "name": user.name, "active": user.active}


def create_user(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    email: str,
    password: str,
    organisation_id: int,
    role: Role,
    name: str = "",
) -> User:
    """A new user with one membership, in an organisation the actor administers."""
    org = _org(session, actor, organisation_id)
    user = add_user(session, email, password, org, role, now, name=name)
    session.flush()
    after = {**audit_summary(user), "organisation_id": org.id, "role": role.value}
    audit.record(session, actor, now, "create", "user", user.id, org.id, after=after)
    return user


def update_user(
    session: Session, actor: Actor, now: datetime, user_id: int, changes: Mapping[str, Any]
) -> User:
    """Change name, active flag and/or password (any of EDITABLE)."""
    user = get_user(session, actor, user_id)
    unknown = set(changes) - set(EDITABLE)
    nulls = [k for k, v in changes.items() if v is None]
    if unknown or nulls:
        raise ValidationFailed(
            "cannot set these fields",
            [FieldError(f, "cannot be changed") for f in sorted(unknown)]
            + [FieldError(f, "must not be null") for f in nulls],
        )
    require_whole_user(actor, user)
    if changes.get("active") is False and user.id == actor.user_id:
        raise Conflict("you cannot deactivate yourself", [FieldError("active", "your own account")])
    if "password" in changes:
        check_password_strength(changes["password"])
    before = audit_summary(user)
    if "name" in changes:
        user.name = changes["name"]
    if "active" in changes:
        user.active = bool(changes["active"])
    after = audit_summary(user)
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
        before["password_changed"], after["password_changed"] = False, True  # never the hash
    if "password" in changes or not user.active:
        end_user_sessions(session, user.id, now)  # a stolen cookie dies with the old password
    session.flush()
    org_id = _home_org_id(actor, user)
    audit.record(session, actor, now, "update", "user", user.id, org_id, before=before, after=after)
    return user


def delete_user(session: Session, actor: Actor, now: datetime, user_id: int) -> None:
    user = get_user(session, actor, user_id)
    require_whole_user(actor, user)
    if user.id == actor.user_id:
        raise Conflict("you cannot delete yourself")
    org_id = _home_org_id(actor, user)
    audit.record(session, actor, now, "delete", "user", user.id, org_id, before=audit_summary(user))
    session.delete(user)
    session.flush()


def _membership(session: Session, user: User, org: Organisation) -> Membership:
    for m in user.memberships:
        if m.organisation_id == org.id:
            return m
    raise NotFound(f"user {user.id} has no role in organisation {org.id}")


def _keeps_admin(actor: Actor, user: User, membership: Membership, new_role: Role | None) -> None:
    """Refuse a change that would leave the acting admin with no admin membership at all."""
    if user.id != actor.user_id or membership.role is not Role.ADMIN or new_role is Role.ADMIN:
        return
    others = [m for m in user.memberships if m is not membership and m.role is Role.ADMIN]
    if not others:
        raise Conflict(
            "this is your last admin membership; another admin must remove it",
            [FieldError("role", "your last admin membership")],
        )


def add_membership(
    session: Session, actor: Actor, now: datetime, user_id: int, organisation_id: int, role: Role
) -> Membership:
    user = get_user(session, actor, user_id)
    org = _org(session, actor, organisation_id)
    if any(m.organisation_id == org.id for m in user.memberships):
        raise Conflict(
            f"user {user.id} already has a role in organisation {org.id}; change it instead",
            [FieldError("organisation_id", "already a member")],
        )
    membership = Membership(organisation_id=org.id, organisation=org, role=role)
    user.memberships.append(membership)
    session.flush()
    audit.record(
        session, actor, now, "add_role", "user", user.id, org.id, after={"role": role.value}
    )
    return membership


def change_membership(
    session: Session, actor: Actor, now: datetime, user_id: int, organisation_id: int, role: Role
) -> Membership:
    user = get_user(session, actor, user_id)
    org = _org(session, actor, organisation_id)
    membership = _membership(session, user, org)
    _keeps_admin(actor, user, membership, role)
    before = {"role": membership.role.value}
    membership.role = role
    session.flush()
    after = {"role": role.value}
    audit.record(
        session, actor, now, "change_role", "user", user.id, org.id, before=before, after=after
    )
    return membership


def remove_membership(
    session: Session, actor: Actor, now: datetime, user_id: int, organisation_id: int
) -> None:
    user = get_user(session, actor, user_id)
    org = _org(session, actor, organisation_id)
    membership = _membership(session, user, org)
    _keeps_admin(actor, user, membership, None)
    if len(user.memberships) == 1:
        raise Conflict(
            f"this is user {user.id}'s only role; without it no admin could see them. "
            "Delete the user instead"
        )
    before = {"role": membership.role.value}
    user.memberships.remove(membership)
    session.flush()
    audit.record(session, actor, now, "remove_role", "user", user.id, org.id, before=before)


def _home_org_id(actor: Actor, user: User) -> int | None:
    mine = visible_memberships(actor, user)
    return mine[0].organisation_id if mine else None


@dataclass(frozen=True)
class UserFilter:
    organisation_id: int | None = None
    q: str | None = None
    active: bool | None = None


def users_select(actor: Actor, filters: UserFilter) -> Select[User]:
    """Users the actor administers, narrowed by `filters`; the caller sorts and pages."""
    stmt = select(User).where(administered_users(actor))
    if filters.organisation_id is not None:
        member = select(Membership.user_id).where(
            Membership.organisation_id == filters.organisation_id
        )
        stmt = stmt.where(User.id.in_(member))
    if filters.q:
        stmt = stmt.where(
            or_(
                User.email.contains(filters.q.lower(), autoescape=True),
                User.name.contains(filters.q, autoescape=True),
            )
        )
    if filters.active is not None:
        stmt = stmt.where(User.active.is_(filters.active))
    return stmt


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise ValidationFailed(
            f"{email!r} is not an email address", [FieldError("email", "not an email address")]
        )
    return email


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
            [FieldError("password", f"at least {MIN_PASSWORD_LENGTH} characters")],
        )


def add_user(
    session: Session,
    email: str,
    password: str,
    organisation: Organisation,
    role: Role,
    now: datetime,
    name: str = "",
) -> User:
    """A user with one membership, added by whoever runs the server (no actor: the CLI, the
    demo); `create_user` is the audited path an admin takes."""
    email = normalise_email(email)
    check_password_strength(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user {email} exists", [FieldError("email", "already taken")])
    user = User(email=email, name=name, password_hash=hash_password(password), created_at=now)
    user.memberships.append(
        Membership(organisation_id=organisation.id, role=role, organisation=organisation)
    )
    session.add(user)
    return user


def set_preferences(
    session: Session, actor: Actor, now: datetime, *, locale: str | None, timezone: str | None
) -> User:
    """The actor's own console language and time zone (None: follow the browser)."""
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("your user no longer exists")
    if timezone is not None and check_zone(timezone) is not None:
        raise ValidationFailed(
            f"unknown time zone {timezone!r}", [FieldError("timezone", "an IANA time zone name")]
        )
    if locale is not None and locale not in CONSOLE_LOCALES:
        raise ValidationFailed(
            f"unknown language {locale!r}", [FieldError("locale", "en or zh_CN")]
        )
    user.locale, user.timezone = locale, timezone
    session.flush()
    return user
