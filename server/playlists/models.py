"""Playlists and their ordered items."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.assets.models import Asset
from server.db import Base

# What an item may ask of the player: how the picture fits the screen, how it comes on.
FITS = ("contain", "cover")
TRANSITIONS = ("cut", "crossfade")


class Playlist(Base):
    __tablename__ = "playlists"
    __table_args__ = (UniqueConstraint("organisation_id", "campaign_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    # A playlist written inside a campaign file belongs to that campaign; others stand alone.
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    # Played on the organisation's screens (and its descendants') when no rule matches;
    # at most one per organisation (kept so by server.playlists.set_default).
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    items: Mapped[list[PlaylistItem]] = relationship(
        back_populates="playlist",
        cascade="all, delete-orphan",
        order_by="PlaylistItem.position",
        lazy="selectin",
    )


class PlaylistItem(Base):
    __tablename__ = "playlist_items"
    __table_args__ = (UniqueConstraint("playlist_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    playlist_id: Mapped[int] = mapped_column(
        ForeignKey("playlists.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="RESTRICT"), index=True)
    duration_ms: Mapped[int]
    fit: Mapped[str] = mapped_column(String(10), default="contain")
    transition: Mapped[str] = mapped_column(String(10), default="cut")

    playlist: Mapped[Playlist] = relationship(back_populates="items")
    asset: Mapped[Asset] = relationship(lazy="joined")
