"""Proof of play: one row per event a player reported."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base


class PlayEvent(Base):
    """An item was on a screen from start to end; names are copied so it outlives deletions."""

    __tablename__ = "play_events"
    __table_args__ = (
        Index("ix_play_events_screen_start", "screen_id", "start"),
        # Event ids are the player's: unique per screen, so no screen can shadow another's.
        UniqueConstraint("screen_id", "event_id", name="uq_play_events_screen_event"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))
    screen_id: Mapped[int | None] = mapped_column(ForeignKey("screens.id", ondelete="SET NULL"))
    screen_name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    # The asset's own hash (a played variant is traced back to its source) and its title.
    asset_sha256: Mapped[str] = mapped_column(String(64))
    asset_title: Mapped[str] = mapped_column(String(300), default="")
    playlist: Mapped[str] = mapped_column(String(200), default="")
    campaign: Mapped[str] = mapped_column(String(300), default="")
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime]
    duration_ms: Mapped[int]
    received_at: Mapped[datetime]
