"""What happened: the audit log, proof of play, screenshots and commands to screens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))  # kept when the user is deleted
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(40))  # create, update, delete, submit, approve, ...
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PlayEvent(Base):
    """An item was on a screen from start to end; names are copied so it outlives deletions."""

    __tablename__ = "play_events"
    __table_args__ = (Index("ix_play_events_screen_start", "screen_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
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


class Screenshot(Base):
    """The latest picture of a screen, as its player sent it."""

    __tablename__ = "screenshots"

    screen_id: Mapped[int] = mapped_column(
        ForeignKey("screens.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    taken_at: Mapped[datetime]


class Command(Base):
    """An operator's instruction to one screen, delivered in its manifest until acknowledged."""

    __tablename__ = "commands"

    id: Mapped[int] = mapped_column(primary_key=True)
    screen_id: Mapped[int] = mapped_column(ForeignKey("screens.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # refresh, screenshot, restart
    issued_at: Mapped[datetime]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acked_at: Mapped[datetime | None]
    ok: Mapped[bool | None]
    detail: Mapped[str] = mapped_column(String(500), default="")
