"""The approval desk: campaigns waiting for an approver, each with what changed since its
last published version; and the campaigns approved and waiting to be published."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role, User
from server.auth.actors import Actor
from server.auth.scope import role_clause
from server.campaigns.describe import Names, entry_from_snapshot
from server.campaigns.files.plan import Change, diff
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
