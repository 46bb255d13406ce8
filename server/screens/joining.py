"""How a player without a token joins: by a pairing code an operator claims
(`server.screens.pairing`) or by an enrolment token (`server.screens.enrolment`); both land
the screen through `server.screens.placement`. The operator's side — claiming, enrolment
tokens, revoking a device — checks the actor's role and records the audit event."""

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
from server.screens import enrolment, pairing
from server.screens.devices import revoke_device_token
from server.screens.models import EnrolmentToken, Screen
from server.screens.placement import Hello, HelloOutcome
from server.screens.services import get_screen


def hello(session: Session, request: Hello, now: datetime) -> HelloOutcome:
    """Answer a hello (docs/player-protocol.md §1); the caller commits."""
    if request.enrol_token is not None:
        return enrolment.enrol(session, request, now)
    return pairing.answer(session, request, now)


# The operator's side, shared by the REST views and the command line.


def claim_code(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    code: str,
    organisation_id: int,
    name: str | None = None,
    group_ids: Sequence[int] = (),
    timezone: str | None = None,
) -> Screen:
    """An operator claims the code a screen shows (audited); the caller commits."""
    org = org_or_404(session, actor, organisation_id)
    actor.require(org.path, Role.OPERATOR)

    def may_adopt(screen: Screen) -> bool:
        role = actor.role_in(screen.organisation.path)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.OPERATOR]

    screen = pairing.claim(
        session,
        code=code,
        organisation=org,
        name=name,
        group_ids=group_ids,
        timezone=timezone,
        now=now,
        may_adopt=may_adopt,
    )
    audit.record(
        session,
        actor,
        now,
        "claim",
        "screen",
        screen.id,
        org.id,
        after={"name": screen.name, "code": code.upper()},
    )
    return screen


def create_enrolment_token(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    organisation_id: int,
    expires_at: datetime,
    max_uses: int,
    group_ids: Sequence[int] = (),
    timezone: str | None = None,
    name: str = "",
) -> tuple[EnrolmentToken, str]:
    """An admin issues an enrolment token (audited): the row and its clear text, shown once."""
    org = org_or_404(session, actor, organisation_id)
    actor.require(org.path, Role.ADMIN)
    row, clear = enrolment.issue_enrolment_token(
        session,
        org,
        expires_at=expires_at,
        max_uses=max_uses,
        group_ids=group_ids,
        timezone=timezone,
        name=name,
        now=now,
        created_by_id=actor.user_id or None,
    )
    audit.record(
        session,
        actor,
        now,
        "create",
        "enrolment_token",
        row.id,
        org.id,
        after={"name": row.name, "uses": row.max_uses},
    )
    return row, clear


def enrolment_tokens(session: Session, actor: Actor, organisation_id: int) -> list[EnrolmentToken]:
    """An organisation's enrolment tokens, for its admins."""
    org = org_or_404(session, actor, organisation_id)
    actor.require(org.path, Role.ADMIN)
    return list(
        session.scalars(
            select(EnrolmentToken)
            .where(EnrolmentToken.organisation_id == org.id)
            .order_by(EnrolmentToken.id)
        )
    )


def revoke_enrolment_token(
    session: Session, actor: Actor, now: datetime, token_id: int
) -> EnrolmentToken:
    """Revoke an enrolment token (screens that joined with it stay); audited."""
    row = session.get(EnrolmentToken, token_id) if 0 < token_id <= MAX_ID else None
    org = session.get(Organisation, row.organisation_id) if row is not None else None
    if row is None or org is None or not actor.sees(org.path):
        raise NotFound(f"no enrolment token {token_id}")
    actor.require(org.path, Role.ADMIN)
    enrolment.revoke_enrolment_token(row, now)
    audit.record(session, actor, now, "revoke", "enrolment_token", row.id, org.id)
    return row


def revoke_device(session: Session, actor: Actor, now: datetime, screen_id: int) -> Screen:
    """Forget the screen's device token: its player gets 401 and pairs again; audited."""
    screen = get_screen(session, actor, screen_id, Role.OPERATOR)
    revoke_device_token(session, screen.id)
    audit.record(session, actor, now, "revoke", "device_token", screen.id, screen.organisation_id)
    return screen
