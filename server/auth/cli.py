"""`signage audit`: who changed what, when — the audit log of the organisations you administer."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.auth.actors import actor_by_email
from server.auth.audit import AuditFilter, audit_select
from server.auth.models import AuditEvent
from server.cli import AS, JSON, emit, friendly, reading, table
from server.errors import FieldError, NotFound, ValidationFailed


def _instant(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed(
            f"{value!r} is not an instant with its offset",
            [FieldError(field, "e.g. 2022-09-05T08:00+08:00")],
        )
    return parsed


def _org_path(session: Session, name: str) -> str:
    path = session.scalar(select(Organisation.path).where(Organisation.name == name))
    if path is None:
        raise NotFound(f"no organisation named {name!r}")
    return path


def event_json(event: AuditEvent, organisation: str | None) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "actor": event.actor,
        "actor_user_id": event.actor_user_id,
        "organisation_id": event.organisation_id,
        "organisation": organisation,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "summary": event.summary or {},
    }


@click.command()
@click.option("--org", "org_name", help="Only this organisation and the ones below it.")
@click.option("--type", "object_type", help="Only this kind of object (screen, campaign, …).")
@click.option("--id", "object_id", help="Only this object id (with --type).")
@click.option("--action", help="Only this action (create, update, publish, …).")
@click.option("--actor", "who", help="Only changes by this email.")
@click.option("--since", help="From this instant (with its offset).")
@click.option("--until", help="Before this instant.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@AS
@JSON
@click.pass_context
@friendly
def audit(
    ctx: click.Context,
    org_name: str | None,
    object_type: str | None,
    object_id: str | None,
    action: str | None,
    who: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_email: str | None,
    as_json: bool,
) -> None:
    """The audit log, newest first: who changed what, when, and what changed."""
    with reading(ctx) as session:
        assert session is not None
        filters = AuditFilter(
            organisation_path=_org_path(session, org_name) if org_name else None,
            object_type=object_type,
            object_id=object_id,
            action=action,
            actor=who.strip().lower() if who else None,
            since=_instant(since, "--since"),
            until=_instant(until, "--until"),
        )
        stmt = audit_select(actor_by_email(session, as_email), filters).limit(limit)
        payload = [event_json(e, org) for e, org in session.execute(stmt)]
    lines = table(
        ("AT", "ACTOR", "ORGANISATION", "ACTION", "OBJECT", "CHANGES"),
        (
            (
                f"{e['at']:%Y-%m-%d %H:%M:%SZ}",
                e["actor"],
                e["organisation"],
                e["action"],
                f"{e['object_type']} {e['object_id']}",
                json.dumps(e["summary"], ensure_ascii=False, sort_keys=True)[:120],
            )
            for e in payload
        ),
    )
    emit(as_json, payload, lines)
