"""Issue 12, finding 5: changing a person (API tokens, password, active flag) needs admin
rights over every one of their memberships."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import ApiToken, Membership, Role, User
from server.auth.actors import create_api_token
from server.auth.models import AuditEvent
from tests.factories import password_hash


def _two_org_user(session: Session, world: Any, clock: Any) -> tuple[User, str, Any]:
    """A teacher at the school who also works for the unrelated Other organisation, and the
    school's own admin (a child organisation's admin)."""
    now = clock.now()
    school_admin = world.add_person(session, "admin@school.test", world.school, Role.ADMIN, now)
    teacher = User(email="t@both.test", name="", password_hash=password_hash(), created_at=now)
    teacher.memberships.append(
        Membership(organisation_id=world.school.id, role=Role.OPERATOR, organisation=world.school)
    )
    teacher.memberships.append(
        Membership(organisation_id=world.other.id, role=Role.VIEWER, organisation=world.other)
    )
    session.add(teacher)
    session.flush()
    _, token = create_api_token(session, teacher, "script", now)
    session.commit()
    return teacher, token, school_admin


def test_finding_5_a_child_admin_cannot_revoke_a_token_of_a_user_of_another_organisation(
    client: FlaskClient, session: Session, world: Any, clock: Any
) -> None:
    teacher, token, school_admin = _two_org_user(session, world, clock)
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == teacher.id))
    r = client.delete(f"/api/v1/tokens/{token_id}", headers=school_admin.headers)
    assert r.status_code == 403, r.json
    session.rollback()
    assert session.get(ApiToken, token_id).revoked_at is None  # type: ignore[union-attr]
    me = client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    # An admin of every membership may (the province admin does not see Other: 404; the
    # Other admin sees the teacher but not the school: 403; only both together could).
    assert (
        client.delete(f"/api/v1/tokens/{token_id}", headers=world["outsider"].headers).status_code
        == 403
    )


def test_finding_5_password_and_deactivation_need_admin_of_every_membership(
    client: FlaskClient, session: Session, world: Any, clock: Any
) -> None:
    teacher, _, school_admin = _two_org_user(session, world, clock)
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    url = f"/api/v1/users/{teacher.id}"
    for change in ({"password": "a new secret phrase"}, {"active": False}):
        r = client.patch(url, json=change, headers=school_admin.headers)
        assert r.status_code == 403, (change, r.json)
    session.rollback()
    user = session.get(User, teacher.id)
    assert user is not None and user.active and user.password_hash == password_hash()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
