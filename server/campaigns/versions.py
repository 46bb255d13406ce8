"""The content version: one number that changes whenever what any screen plays may change.

It is the id of the latest `Publication` row. Manifests and their ETags depend on it, so every
change that alters what screens play (a publish, an archive, a default playlist's edit) must
go through `bump` in the same transaction as the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.campaigns.models import Publication


def bump(
    session: Session,
    *,
    action: str,
    now: datetime,
    effective_at: datetime | None = None,
    campaign_id: int | None = None,
    snapshot: dict[str, Any] | None = None,
) -> Publication:
    """Record a change to published content; it takes effect at `effective_at` (default now)."""
    row = Publication(
        campaign_id=campaign_id,
        action=action,
        published_at=now,
        effective_at=effective_at or now,
        snapshot=snapshot,
    )
    session.add(row)
    session.flush()
    return row


def current(session: Session) -> int:
    return session.scalar(select(func.max(Publication.id))) or 0
