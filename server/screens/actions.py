"""What operators do to players, checked and audited in one place for the REST views and
the console: claim a pairing code, issue and revoke enrolment tokens, revoke a device,
queue commands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.accounts.organisations import org_or_404
from server.auth import audit
from server.auth.actors import ROLE_RANK, Actor
from server.db import MAX_ID
from server.errors import NotFound
from server.screens import commands
from server.screens.codes import normalise_code
from server.screens.devices import revoke_device_token
from server.screens.enrolment import issue_enrolment_token, revoke_enrolment_token
from server.screens.models import Command, EnrolmentToken, Screen
from server.screens.pairing import claim
from server.screens.services import get_screen


def _audit(
    session: Session,
    actor: Actor,
    now: datetime,
    action: str,
    object_type: str,
    obj_id: object,
    org_id: int,
    **after: object,
) -> None:
    audit.record(
        session, actor, now, action, object_type, obj_id, org_id, after=dict(after) or None
    )


def claim_code(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    code: str,
    organisation_id: int,
    name: str | None = None,
    group_ids: Sequence[int] = (),
    timezone: str = "UTC",
    screen_id: int | None = None,
) -> Screen:
    """Claim the code a screen shows: a new screen in the organisation, or (`screen_id`) a
    pre-registered one, which then keeps its organisation unless told otherwise."""
    org = org_or_404(session, actor, organisation_id)
    actor.require(org.path, Role.OPERATOR)
    onto = get_screen(session, actor, screen_id, Role.OPERATOR) if screen_id else None

    def may_adopt(screen: Screen) -> bool:
        role = actor.role_in(screen.organisation.path)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.OPERATOR]

    screen = claim(
        session,
        code=code,
        organisation=org,
        name=name,
        group_ids=group_ids,
        timezone=timezone,
        now=now,
        may_adopt=may_adopt,
        onto=onto,
    )
    typed = normalise_code(code)
    _audit(session, actor, now, "claim", "screen", screen.id, org.id, name=screen.name, code=typed)
    return screen


def create_enrolment_token(
    session: Session,
    actor: Actor,
    now: datetime,
    organisation_id: int,
    *,
    expires_at: datetime,
    max_uses: int,
    group_ids: Sequence[int] = (),
    timezone: str = "UTC",
    name: str = "",
) -> tuple[EnrolmentToken, str]:
    org = org_or_404(session, actor, organisation_id)
    actor.require(org.path, Role.ADMIN)
    row, clear = issue_enrolment_token(
        session,
        org,
        expires_at=expires_at,
        max_uses=max_uses,
        group_ids=group_ids,
        timezone=timezone,
        name=name,
        now=now,
        created_by_id=actor.user_id,
    )
    _audit(
        session,
        actor,
        now,
        "create",
        "enrolment_token",
        row.id,
        org.id,
        name=row.name,
        uses=row.max_uses,
    )
    return row, clear


def enrolment_tokens(session: Session, actor: Actor, organisation_id: int) -> list[EnrolmentToken]:
    org = org_or_404(session, actor, organisation_id)
    actor.require(org.path, Role.ADMIN)
    return list(
        session.scalars(
            select(EnrolmentToken)
            .where(EnrolmentToken.organisation_id == org.id)
            .order_by(EnrolmentToken.id)
        )
    )


def revoke_enrolment(session: Session, actor: Actor, now: datetime, token_id: int) -> None:
    row = session.get(EnrolmentToken, token_id) if 0 < token_id <= MAX_ID else None
    org = session.get(Organisation, row.organisation_id) if row is not None else None
    if row is None or org is None or not actor.sees(org.path):
        raise NotFound(f"no enrolment token {token_id}")
    actor.require(org.path, Role.ADMIN)
    revoke_enrolment_token(row, now)
    _audit(session, actor, now, "revoke", "enrolment_token", row.id, org.id)


def revoke_device(session: Session, actor: Actor, now: datetime, screen_id: int) -> Screen:
    screen = get_screen(session, actor, screen_id, Role.OPERATOR)
    revoke_device_token(session, screen.id)
    _audit(session, actor, now, "revoke", "device_token", screen.id, screen.organisation_id)
    return screen


def queue_command(
    session: Session, actor: Actor, now: datetime, screen_id: int, kind: str
) -> Command:
    screen = get_screen(session, actor, screen_id, Role.OPERATOR)
    command = commands.queue_command(session, screen, kind, now, actor.user_id)
    _audit(
        session, actor, now, "command", "screen", screen.id, screen.organisation_id, command=kind
    )
    return command


def recent_commands(
    session: Session, actor: Actor, screen_id: int, limit: int = 50
) -> list[Command]:
    screen = get_screen(session, actor, screen_id, Role.VIEWER)
    return list(
        session.scalars(
            select(Command)
            .where(Command.screen_id == screen.id)
            .order_by(Command.id.desc())
            .limit(limit)
        )
    )
