"""Apply a checked campaign file as someone, and publish it if asked: the one call the
command line, the API and the demo make."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.assets.uploads import MediaLimits
from server.auth.actors import Actor
from server.campaigns import workflow
from server.campaigns.files.apply import apply_bound
from server.campaigns.files.bind import Bound
from server.campaigns.models import CampaignStatus
from server.config import Settings
from server.media.store import MediaStore


def apply_checked(
    session: Session,
    store: MediaStore,
    settings: Settings,
    bound: Bound,
    now: datetime,
    actor: Actor,
    *,
    publish: bool = False,
) -> list[str]:
    """Apply `bound` as `actor`, then publish when asked; what happened, as lines."""
    applied = apply_bound(session, store, MediaLimits.from_settings(settings), bound, actor, now)
    campaign = applied.campaign
    where = f"campaign {campaign.name!r} (id {campaign.id}) in {bound.organisation.name!r}"
    if applied.created:
        lines = [f"created {where} as a draft ({len(applied.changes)} changes)"]
    elif applied.changes:
        lines = [f"updated {where}: {len(applied.changes)} changes; it is a draft again"]
    else:
        lines = [f"{where} is unchanged ({campaign.status.value})"]
    if not publish:
        return lines
    if campaign.status is CampaignStatus.PUBLISHED:
        lines.append("already published: nothing to publish")
        return lines
    if campaign.status is CampaignStatus.SUBMITTED:
        workflow.approve(session, campaign, actor, now)
    elif campaign.status is CampaignStatus.ARCHIVED:
        workflow.back_to_draft(campaign)
    publication = workflow.publish(session, campaign, actor, now, settings)
    lines.append(
        f"published as content version {publication.id}, on screens from"
        f" {publication.effective_at.isoformat()}"
    )
    return lines
