"""Users and scope without HTTP: admin reach by nearest membership, lock-outs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts import tokens as api_tokens
from server.accounts import users
from server.accounts.models import Membership, Organisation, Role
from server.accounts.organisations import create_organisation
from server.auth.actors import actor_for_user
from server.auth.scope import readable_org_clause, role_clause
from server.errors import Conflict, NotFound, ValidationFailed

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_role_clause_follows_the_nearest_membership(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    """Admin at the province, only a viewer in the city, admin again in one school below."""
    school2 = create_organisation(session, "School 2", world.city, NOW)
    session.flush()
    boss = world["admin"].user
    boss.memberships.append(Membership(organisation_id=world.city.id, role=Role.VIEWER))
    boss.memberships.append(Membership(organisation_id=world.school.id, role=Role.ADMIN))
    session.commit()
    session.refresh(boss)
    actor = actor_for_user(boss)
    admin_of = set(
        session.scalars(
            select(Organisation.name).where(role_clause(actor, Organisation.path, Role.ADMIN))
        )
    )
    assert admin_of == {"Province", "School"}
    assert actor.role_in(school2.path) is Role.VIEWER  # the clause agrees with the actor
    readable = set(session.scalars(select(Organisation.name).where(readable_org_clause(actor))))
    assert readable == {"Province", "City", "School", "School 2"}
    city_op = actor_for_user(world["city_operator"].user)
    readable = set(session.scalars(select(Organisation.name).where(readable_org_clause(city_op))))
    assert readable == {"Province", "City", "School", "School 2"}  # and ancestors; not Other


def test_users_and_memberships(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    admin = actor_for_user(world["admin"].user)
    outsider = actor_for_user(world["outsider"].user)
    user = users.create_user(
        session,
        admin,
        NOW,
        email="t@school.test",
        password="long enough secret",
        organisation_id=world.school.id,
        role=Role.OPERATOR,
    )
    with pytest.raises(NotFound):
        users.get_user(session, outsider, user.id)
    with pytest.raises(ValidationFailed):
        users.update_user(session, admin, NOW, user.id, {"password": "short"})
    users.add_membership(session, admin, NOW, user.id, world.city.id, Role.VIEWER)
    users.change_membership(session, admin, NOW, user.id, world.city.id, Role.APPROVER)
    users.remove_membership(session, admin, NOW, user.id, world.school.id)
    with pytest.raises(Conflict):  # the last one: delete the user instead
        users.remove_membership(session, admin, NOW, user.id, world.city.id)
    session.commit()
    assert [(m.organisation_id, m.role) for m in user.memberships] == [
        (world.city.id, Role.APPROVER)
    ]
    me = world["admin"].user.id
    with pytest.raises(Conflict):
        users.remove_membership(session, admin, NOW, me, world.province.id)
    with pytest.raises(Conflict):
        users.delete_user(session, admin, NOW, me)


def test_tokens_expire_in_the_future_only_and_are_revoked_once(
    session: Session,
    world,  # type: ignore[no-untyped-def]
) -> None:
    viewer = actor_for_user(world["viewer"].user)
    with pytest.raises(ValidationFailed) as err:
        api_tokens.issue_token(session, viewer, NOW, name="x", expires_at=NOW)
    assert err.value.errors[0].field == "expires_at"
    row, clear = api_tokens.issue_token(session, viewer, NOW, name="ci")
    assert clear.startswith("sgt_") and clear not in (row.token_hash, row.prefix)
    api_tokens.revoke_token(session, viewer, NOW, row.id)
    later = datetime(2026, 2, 1, tzinfo=UTC)
    assert api_tokens.revoke_token(session, viewer, later, row.id).revoked_at == NOW
    with pytest.raises(NotFound):
        api_tokens.revoke_token(session, actor_for_user(world["outsider"].user), NOW, row.id)
