"""The publishing workflow: draft ▸ submitted ▸ approved ▸ published ▸ archived.

Only a publication puts content on screens. Approval freezes the campaign's content (items
and asset hashes included) into `approved_snapshot`, and a publish puts exactly that on
screens: content that changed after approval is refused, and an edit of a playlist a
campaign schedules sends that campaign back to draft, with the reason kept on it and in the
audit log. Publishing freezes the campaign into a snapshot (`server.campaigns.snapshot`)
recorded through `server.campaigns.versions.bump`, taking effect one poll interval plus a
margin later so that every screen switches at the same instant. Each step is audited in the
caller's transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import faults
from server.accounts.models import Role
from server.auth import audit
from server.auth.actors import SYSTEM, Actor, org_path_of
from server.campaigns import versions as content_version
from server.campaigns.models import Campaign, CampaignStatus, Publication, ScheduleEntry
from server.campaigns.snapshot import campaign_snapshot
from server.config import Settings
from server.errors import Conflict, FieldError, Forbidden, ValidationFailed
from server.playlists.models import Playlist

__all__ = ["SYSTEM", "OwnSubmission", "approve", "archive", "publish", "send_back", "submit"]

# The longest comment a campaign keeps as its reason for being a draft again.
REASON_MAX = 300


class OwnSubmission(Forbidden):
    """An approver tried to approve what they submitted themselves."""


def actor_id(actor: Actor) -> int | None:
    return actor.user_id or None


def effective_instant(settings: Settings, now: datetime) -> datetime:
    """When a publish made at `now` takes effect: after every screen has polled once more."""
    return now + timedelta(seconds=settings.poll_interval_s + settings.publish_margin_s)


def _audit(
    session: Session, campaign: Campaign, actor: Actor, action: str, now: datetime, **after: object
) -> None:
    audit.record(
        session,
        actor,
        now,
        action,
        "campaign",
        campaign.id,
        campaign.organisation_id,
        after={"status": str(campaign.status), **after},
    )


def _require_status(campaign: Campaign, allowed: tuple[CampaignStatus, ...], step: str) -> None:
    if campaign.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise Conflict(
            f"cannot {step} a campaign that is {campaign.status.value} (it must be {wanted})",
            [FieldError("status", campaign.status.value)],
        )


def org_path(session: Session, campaign: Campaign) -> str:
    return org_path_of(session, campaign.organisation_id)


def submit(session: Session, campaign: Campaign, actor: Actor, now: datetime) -> Campaign:
    """An operator asks for approval of a draft."""
    actor.require(org_path(session, campaign), Role.OPERATOR)
    _require_status(campaign, (CampaignStatus.DRAFT,), "submit")
    if not campaign.entries:
        raise ValidationFailed(
            "the campaign has no schedule entries", [FieldError("entries", "empty")]
        )
    campaign.status = CampaignStatus.SUBMITTED
    campaign.submitted_by_id = actor_id(actor)
    campaign.approved_by_id = None
    campaign.approved_snapshot = None
    campaign.updated_at = now
    _audit(session, campaign, actor, "submit", now)
    return campaign


def approve(session: Session, campaign: Campaign, actor: Actor, now: datetime) -> Campaign:
    """An approver of the campaign's organisation (or an ancestor) approves; never their own."""
    actor.require(org_path(session, campaign), Role.APPROVER)
    _require_status(campaign, (CampaignStatus.SUBMITTED,), "approve")
    if campaign.submitted_by_id is not None and campaign.submitted_by_id == actor_id(actor):
        raise OwnSubmission("nobody approves their own submission: another approver must")
    campaign.status = CampaignStatus.APPROVED
    campaign.approved_by_id = actor_id(actor)
    campaign.approved_snapshot = campaign_snapshot(campaign)
    campaign.updated_at = now
    _audit(session, campaign, actor, "approve", now)
    return campaign


def _takeover_only(campaign: Campaign) -> bool:
    return bool(campaign.entries) and all(e.layer == "takeover" for e in campaign.entries)


def publish(
    session: Session,
    campaign: Campaign,
    actor: Actor,
    now: datetime,
    settings: Settings,
    *,
    immediate: bool = False,
) -> Publication:
    """Publish an approved campaign (or, for an approver, a draft straight away).

    `immediate` starts at once instead of after the poll interval and margin; only a
    campaign made of takeover entries (an emergency) may ask for it.
    """
    actor.require(org_path(session, campaign), Role.APPROVER)
    _require_status(campaign, (CampaignStatus.APPROVED, CampaignStatus.DRAFT), "publish")
    if not campaign.entries:
        raise ValidationFailed(
            "the campaign has no schedule entries", [FieldError("entries", "empty")]
        )
    if immediate and not _takeover_only(campaign):
        raise ValidationFailed(
            "only a campaign of takeover entries may be published immediately",
            [FieldError("immediate", "the campaign has normal-layer entries")],
        )
    snapshot = campaign_snapshot(campaign)
    if campaign.status is CampaignStatus.DRAFT:
        campaign.approved_by_id = actor_id(actor)  # an approver's own publish approves it
    elif snapshot != campaign.approved_snapshot:
        raise Conflict(
            "the campaign's content changed after it was approved; submit it again",
            [FieldError("status", "content differs from what was approved")],
        )
    effective = now if immediate else effective_instant(settings, now)
    publication = content_version.bump(
        session,
        action="publish",
        now=now,
        effective_at=effective,
        campaign_id=campaign.id,
        snapshot=snapshot,
    )
    campaign.status = CampaignStatus.PUBLISHED
    campaign.published_at = now
    campaign.effective_at = effective
    campaign.updated_at = now
    _audit(
        session,
        campaign,
        actor,
        "publish",
        now,
        publication=publication.id,
        effective_at=effective.isoformat(),
    )
    session.flush()
    faults.point("before-publish-commit")
    return publication


def is_live(session: Session, campaign_id: int) -> bool:
    """Whether the campaign's latest publication puts content on screens (or will)."""
    action = session.scalar(
        select(Publication.action)
        .where(Publication.campaign_id == campaign_id)
        .order_by(Publication.id.desc())
        .limit(1)
    )
    return action == "publish"


def archive(
    session: Session, campaign: Campaign, actor: Actor, now: datetime, settings: Settings
) -> Publication | None:
    """Take the campaign off screens (at the next effective instant) and out of the workflow."""
    actor.require(org_path(session, campaign), Role.APPROVER)
    if campaign.status is CampaignStatus.ARCHIVED:
        raise Conflict("the campaign is already archived", [FieldError("status", "archived")])
    publication = None
    if is_live(session, campaign.id):
        publication = content_version.bump(
            session,
            action="archive",
            now=now,
            effective_at=effective_instant(settings, now),
            campaign_id=campaign.id,
        )
        campaign.effective_at = publication.effective_at
    campaign.status = CampaignStatus.ARCHIVED
    campaign.updated_at = now
    _audit(
        session,
        campaign,
        actor,
        "archive",
        now,
        publication=publication.id if publication else None,
    )
    return publication


def back_to_draft(campaign: Campaign, reason: str = "") -> None:
    """An edit sends the campaign back through approval; what is published stays live."""
    campaign.status = CampaignStatus.DRAFT
    campaign.submitted_by_id = None
    campaign.approved_by_id = None
    campaign.approved_snapshot = None
    if reason:
        campaign.draft_reason = reason[:REASON_MAX]


def send_back(
    session: Session, campaign: Campaign, actor: Actor, now: datetime, comment: str
) -> Campaign:
    """An approver returns a submitted or approved campaign to draft, saying why.

    The comment is required (the operator must learn what to change); it becomes the
    campaign's `draft_reason` and is kept in the audit log."""
    actor.require(org_path(session, campaign), Role.APPROVER)
    _require_status(campaign, (CampaignStatus.SUBMITTED, CampaignStatus.APPROVED), "send back")
    comment = " ".join(comment.split())
    if not comment:
        raise ValidationFailed(
            "say why the campaign goes back to draft", [FieldError("comment", "required")]
        )
    if len(comment) > REASON_MAX:
        raise ValidationFailed(
            f"the comment is longer than {REASON_MAX} characters",
            [FieldError("comment", f"at most {REASON_MAX} characters")],
        )
    was = campaign.status.value
    back_to_draft(campaign, comment)
    campaign.updated_at = now
    audit.record(
        session,
        actor,
        now,
        "send_back",
        "campaign",
        campaign.id,
        campaign.organisation_id,
        before={"status": was},
        after={"status": CampaignStatus.DRAFT.value, "reason": campaign.draft_reason},
    )
    return campaign


# A campaign in these states has content someone approved (or is about to approve).
_REVIEWED = (CampaignStatus.SUBMITTED, CampaignStatus.APPROVED, CampaignStatus.PUBLISHED)


def playlist_edited(
    session: Session, playlist_id: int, actor: Actor, now: datetime, what: str
) -> list[Campaign]:
    """Send every reviewed campaign that schedules the playlist back to draft, saying why.

    Called in the editing transaction, so the edit and the campaigns' return to draft commit
    together; each campaign gets an audit event the console can show.
    """
    campaigns = list(
        session.scalars(
            select(Campaign)
            .where(
                Campaign.id.in_(
                    select(ScheduleEntry.campaign_id).where(
                        ScheduleEntry.playlist_id == playlist_id
                    )
                ),
                Campaign.status.in_(_REVIEWED),
            )
            .order_by(Campaign.id)
        )
    )
    name = session.scalar(select(Playlist.name).where(Playlist.id == playlist_id)) or ""
    reason = f"playlist {playlist_id} ({name!r}) {what} by {actor.label}"
    for campaign in campaigns:
        was = campaign.status.value
        back_to_draft(campaign, reason)
        campaign.updated_at = now
        audit.record(
            session,
            actor,
            now,
            "back_to_draft",
            "campaign",
            campaign.id,
            campaign.organisation_id,
            before={"status": was},
            after={
                "status": CampaignStatus.DRAFT.value,
                "reason": campaign.draft_reason,
                "playlist_id": playlist_id,
                "playlist": name,
            },
        )
    return campaigns
