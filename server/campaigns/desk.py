"""The approval desk: campaigns waiting for an approver, each with what changed since its
last published version; the campaigns approved and waiting to be published; what each
would show and the conflicts it would bring; and the campaigns lately sent back to draft."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role, User
from server.auth.actors import Actor
from server.auth.models import AuditEvent
from server.auth.scope import in_scope, role_clause
from server.campaigns.describe import Names, entry_from_snapshot
from server.campaigns.files.notes import Note, campaign_notes
from server.campaigns.files.plan import Change, ConflictNote, conflicts, current_state, diff
from server.campaigns.files.scene import scene
from server.campaigns.files.state import CampaignState, ItemState
from server.campaigns.models import Campaign, CampaignStatus, Publication
from server.campaigns.snapshot import campaign_snapshot


def state_from_snapshot(snap: dict[str, Any]) -> CampaignState:
    """A publication snapshot as a CampaignState, to compare two versions of a campaign.

    A snapshot holds each entry's targets resolved, so both sides of a comparison are read
    this way (the campaign's own targets show as the entries')."""
    camp = snap["campaign"]
    playlists = {
        pl["name"]: tuple(
            ItemState(
                kind=i["kind"],
                sha256=i["sha256"],
                duration_ms=i["duration_ms"],
                fit=i.get("fit", "contain"),
                transition=i.get("transition", "cut"),
                label=i["sha256"][:12],
            )
            for i in pl["items"]
        )
        for pl in snap["playlists"].values()
    }
    return CampaignState(
        name=camp["name"],
        organisation_id=camp["organisation_id"],
        timezone=camp["timezone"],
        start_date=date.fromisoformat(camp["start_date"]),
        end_date=date.fromisoformat(camp["end_date"]),
        targets={},
        playlists=playlists,
        entries=tuple(entry_from_snapshot(e, snap["playlists"]) for e in snap["entries"]),
    )


def last_published(session: Session, campaign_id: int) -> Publication | None:
    return session.scalar(
        select(Publication)
        .where(Publication.campaign_id == campaign_id, Publication.action == "publish")
        .order_by(Publication.id.desc())
        .limit(1)
    )


def changes_since_published(session: Session, campaign: Campaign) -> list[Change]:
    """What the campaign changes against its last published version (all of it if none)."""
    published = last_published(session, campaign.id)
    before = (
        state_from_snapshot(published.snapshot)
        if published is not None and published.snapshot
        else None
    )
    return diff(before, state_from_snapshot(campaign_snapshot(campaign)), Names(session))


@dataclass(frozen=True)
class DeskItem:
    campaign: Campaign
    organisation: str
    submitted_by: str | None  # e-mail
    own: bool  # this actor submitted it: another approver must approve
    published_before: datetime | None  # when its last published version was published
    changes: list[Change]


@dataclass
class Desk:
    waiting: list[DeskItem] = field(default_factory=list)  # submitted
    approved: list[DeskItem] = field(default_factory=list)  # approved, not yet published

    @property
    def counts(self) -> dict[str, int]:
        return {"waiting": len(self.waiting), "approved": len(self.approved)}


def waiting_count(session: Session, actor: Actor) -> int:
    """How many submitted campaigns this actor may approve (not their own): one query,
    cheap enough for the navigation of every page."""
    return int(
        session.scalar(
            select(func.count(Campaign.id))
            .join(Organisation, Organisation.id == Campaign.organisation_id)
            .where(
                Campaign.status == CampaignStatus.SUBMITTED,
                role_clause(actor, Organisation.path, Role.APPROVER),
                or_(
                    Campaign.submitted_by_id.is_(None),
                    Campaign.submitted_by_id != (actor.user_id or 0),
                ),
            )
        )
        or 0
    )


def submitted_by(session: Session, actor: Actor) -> list[Campaign]:
    """The actor's own submissions still on their way: waiting for an approver, or approved
    and waiting to be published (an operator's view of the desk)."""
    if not actor.user_id:
        return []
    return list(
        session.scalars(
            select(Campaign)
            .where(
                Campaign.submitted_by_id == actor.user_id,
                Campaign.status.in_([CampaignStatus.SUBMITTED, CampaignStatus.APPROVED]),
            )
            .order_by(Campaign.updated_at.desc(), Campaign.id.desc())
        )
    )


def approval_desk(session: Session, actor: Actor) -> Desk:
    """Submitted and approved campaigns of the organisations the actor approves for."""
    rows = session.execute(
        select(Campaign, Organisation.name, User.email)
        .join(Organisation, Organisation.id == Campaign.organisation_id)
        .outerjoin(User, User.id == Campaign.submitted_by_id)
        .where(
            Campaign.status.in_([CampaignStatus.SUBMITTED, CampaignStatus.APPROVED]),
            role_clause(actor, Organisation.path, Role.APPROVER),
        )
        .order_by(Campaign.updated_at, Campaign.id)
    ).all()
    desk = Desk()
    for campaign, org_name, email in rows:
        published = last_published(session, campaign.id)
        item = DeskItem(
            campaign=campaign,
            organisation=org_name,
            submitted_by=email,
            own=campaign.submitted_by_id is not None and campaign.submitted_by_id == actor.user_id,
            published_before=published.published_at if published else None,
            changes=changes_since_published(session, campaign),
        )
        if campaign.status is CampaignStatus.SUBMITTED:
            desk.waiting.append(item)
        else:
            desk.approved.append(item)
    return desk


# -- what the desk shows beside each campaign ------------------------------------------------


@dataclass(frozen=True)
class PreviewPoster:
    asset_id: int
    sha256: str
    kind: str
    title: str
    duration_ms: int


@dataclass(frozen=True)
class Review:
    """What an approver looks at before approving: the posters of each playlist the
    campaign schedules, the conflicts it would bring to screens and the plan's notes."""

    playlists: dict[str, tuple[PreviewPoster, ...]]
    conflicts: list[ConflictNote]
    notes: list[Note]


def review(session: Session, campaign: Campaign, now: datetime) -> Review:
    """The campaign as `campaign plan` sees it against what is published; reads only."""
    state = current_state(session, campaign)
    org = session.get(Organisation, campaign.organisation_id)
    assert org is not None
    seen = scene(session, org, state, campaign.id, now)
    playlists: dict[str, tuple[PreviewPoster, ...]] = {}
    for entry in campaign.entries:
        pl = entry.playlist
        if pl.name not in playlists:
            playlists[pl.name] = tuple(
                PreviewPoster(
                    asset_id=i.asset.id,
                    sha256=i.asset.sha256,
                    kind=str(i.asset.kind),
                    title=i.asset.title or i.asset.original_name or i.asset.sha256[:12],
                    duration_ms=i.duration_ms,
                )
                for i in pl.items
            )
    return Review(
        playlists=playlists,
        conflicts=conflicts(seen, state),
        notes=campaign_notes(seen, state, org, None, now),
    )


# -- campaigns sent back to draft -------------------------------------------------------------

RETURN_ACTIONS = ("back_to_draft", "send_back")


@dataclass(frozen=True)
class Returned:
    """One return to draft: when, by whom, why, and the campaign's status now."""

    at: datetime
    campaign_id: int
    campaign: str
    timezone: str  # the campaign's, in which the desk shows `at`
    organisation: str
    actor: str
    reason: str
    playlist: str | None  # the edited playlist, for a return caused by a playlist edit
    sent_back: bool  # an approver's "send back" (else an edit)
    status_now: str


def returned(
    session: Session, actor: Actor, scope_path: str | None, limit: int = 20
) -> list[Returned]:
    """The latest returns to draft of campaigns the actor reads, within `scope_path`."""
    stmt = (
        select(AuditEvent, Campaign, Organisation.name)
        .join(Campaign, AuditEvent.object_id == cast(Campaign.id, String))
        .join(Organisation, Organisation.id == Campaign.organisation_id)
        .where(
            AuditEvent.object_type == "campaign",
            AuditEvent.action.in_(RETURN_ACTIONS),
            in_scope(actor),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    if scope_path:
        stmt = stmt.where(Organisation.path.startswith(scope_path))
    out = []
    for event, campaign, org_name in session.execute(stmt):
        after = (event.summary or {}).get("after", {})
        out.append(
            Returned(
                at=event.at,
                campaign_id=campaign.id,
                campaign=campaign.name,
                timezone=campaign.timezone,
                organisation=org_name,
                actor=event.actor,
                reason=str(after.get("reason", "")),
                playlist=after.get("playlist"),
                sent_back=event.action == "send_back",
                status_now=campaign.status.value,
            )
        )
    return out
