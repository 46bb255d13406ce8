"""Campaigns, their schedule entries, and the log of publications (the content version)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, enum_column
from server.playlists.models import Playlist


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    start_date: Mapped[date]
    end_date: Mapped[date]
    # Default targets for entries that name none: {"everyone": true} or {"groups": [...], ...}.
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[CampaignStatus] = mapped_column(
        enum_column(CampaignStatus, 12),
        default=CampaignStatus.DRAFT,
    )
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The content as approved (snapshot format): a publish puts exactly this on screens.
    approved_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Why the campaign last went back to draft ("playlist 4 edited by x@example.org").
    draft_reason: Mapped[str] = mapped_column(String(300), default="")
    published_at: Mapped[datetime | None]
    # When the published content takes effect on screens (announced ahead of time).
    effective_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    entries: Mapped[list[ScheduleEntry]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="ScheduleEntry.position",
        lazy="selectin",
    )


class ScheduleEntry(Base):
    """One rule: a playlist, where, when, how strongly. See server/scheduling/rules.py."""

    __tablename__ = "schedule_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    playlist_id: Mapped[int] = mapped_column(
        ForeignKey("playlists.id", ondelete="RESTRICT"), index=True
    )
    # {"everyone": bool, "organisations": [ids], "groups": [ids], "tags": [str], "screens": [ids]};
    # empty means the campaign's targets.
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_date: Mapped[date | None]
    last_date: Mapped[date | None]
    weekdays: Mapped[list[int] | None] = mapped_column(JSON)
    # [["07:30", "09:00"], ...]; empty: the whole day.
    windows: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    interval_start: Mapped[datetime | None]
    interval_end: Mapped[datetime | None]
    screen_local: Mapped[bool] = mapped_column(default=False)
    priority: Mapped[int] = mapped_column(default=0)
    layer: Mapped[str] = mapped_column(String(10), default="normal")

    campaign: Mapped[Campaign] = relationship(back_populates="entries")
    playlist: Mapped[Playlist] = relationship(lazy="joined")


class Publication(Base):
    """Each publish, unpublish or archive: its id is the content version manifests depend on."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    published_at: Mapped[datetime]
    effective_at: Mapped[datetime]
    # Campaign content as it was published, so what screens play does not change under a draft edit.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
