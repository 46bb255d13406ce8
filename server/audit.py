"""The audit log: every change records who, what, when, and a short before/after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.models import AuditEvent


def record(
    session: Session,
    *,
    actor_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: object,
    organisation_id: int | None,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit row to the caller's transaction: it commits with the change or not at all."""
    summary: dict[str, Any] = {}
    if before is not None and after is not None:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        summary = {
            "before": {k: before.get(k) for k in changed},
            "after": {k: after.get(k) for k in changed},
        }
    elif after is not None:
        summary = {"after": after}
    elif before is not None:
        summary = {"before": before}
    event = AuditEvent(
        at=at,
        actor_user_id=actor_id,
        actor=actor,
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary,
    )
    session.add(event)
    return event
