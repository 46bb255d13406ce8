"""What the console and the REST views both do to players beyond `joining`: a claim with
its wrong-code limits, and commands (queued and audited, listed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Role
from server.auth import audit, limits
from server.auth.actors import Actor
from server.config import Settings
from server.errors import NotFound
from server.screens import commands, joining
from server.screens.models import Command, Screen
from server.screens.services import get_screen


def claim_with_limits(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    settings: Settings,
    address: str,
    code: str,
    organisation_id: int | None = None,
    replace_screen_id: int | None = None,
    name: str | None = None,
    group_ids: Sequence[int] = (),
    timezone: str | None = None,
) -> Screen:
    """`joining.claim_code`, with wrong codes counted against the organisation and the
    caller's address (committed even though the claim fails). The caller commits."""
    _, org_key = joining.claim_org_key(session, actor, organisation_id, replace_screen_id)
    by_org, by_address = joining.claim_limits(settings)
    limits.check(session, by_org, org_key, now)
    limits.check(session, by_address, address, now)
    try:
        screen, _ = joining.claim_code(
            session,
            actor,
            now,
            code=code,
            organisation_id=organisation_id,
            replace_screen_id=replace_screen_id,
            name=name,
            group_ids=group_ids,
            timezone=timezone,
        )
    except NotFound as exc:
        if any(e.field == "code" for e in exc.errors):  # a wrong code: it counts
            session.rollback()
            limits.hit(session, by_org, org_key, now)
            limits.hit(session, by_address, address, now)
            session.commit()
        raise
    return screen


def queue_command(
    session: Session, actor: Actor, now: datetime, screen_id: int, kind: str
) -> Command:
    """Queue a command for the screen's next poll (audited; the caller commits)."""
    screen = get_screen(session, actor, screen_id, Role.OPERATOR)
    command = commands.queue_command(session, screen, kind, now, actor.user_id)
    audit.record(
        session, actor, now, "command", "screen", screen.id, screen.organisation_id,
        after={"command": kind},
    )  # fmt: skip
    return command


def recent_commands(
    session: Session, actor: Actor, screen_id: int, limit: int = 50
) -> list[Command]:
    """The screen's latest commands, newest first."""
    screen = get_screen(session, actor, screen_id, Role.VIEWER)
    return list(
        session.scalars(
            select(Command)
            .where(Command.screen_id == screen.id)
            .order_by(Command.id.desc())
            .limit(limit)
        )
    )
