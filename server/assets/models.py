"""Assets: immutable media by content hash, and their screen-ready variants."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, enum_column


class AssetKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    SLOGAN = "slogan"


class Asset(Base):
    """One organisation's record of a piece of media. Two organisations may share the bytes."""

    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("organisation_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[AssetKind] = mapped_column(enum_column(AssetKind, 10))
    # SHA-256 of the stored (normalised) bytes; for a slogan, of its canonical text+style.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(default=0)
    width: Mapped[int | None]
    height: Mapped[int | None]
    original_name: Mapped[str] = mapped_column(String(300), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    # Slogans: {"text": ..., "style": {...}}; empty for files.
    slogan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Variant(Base):
    """A rendering of an asset for one screen profile and fit; content-addressed, made once."""

    __tablename__ = "variants"
    __table_args__ = (UniqueConstraint("source_sha256", "profile", "fit", "background"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    profile: Mapped[str] = mapped_column(String(20))  # "1920x1080", or "thumb"
    fit: Mapped[str] = mapped_column(String(10))
    background: Mapped[str] = mapped_column(String(20), default="#000000")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime]
