"""Screens, groups of screens, and how players join: pairing codes and enrolment tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.accounts.models import Organisation
from server.db import Base


class Screen(Base):
    __tablename__ = "screens"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    hardware_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    width: Mapped[int] = mapped_column(default=1920)
    height: Mapped[int] = mapped_column(default=1080)
    location: Mapped[str] = mapped_column(String(300), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    device_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The player's public device key (Ed25519, base64url): whoever proves it is this screen's
    # device. None for a screen paired by a version-1 player that has not bound one yet.
    device_key: Mapped[str | None] = mapped_column(String(64))
    token_issued_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    # The player's latest status report (what it shows, version, disk, errors).
    status: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bumped whenever a command is queued or acknowledged: it is part of the manifest's ETag,
    # so a poll learns of a new command without reading the commands table.
    command_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    groups: Mapped[list[Group]] = relationship(secondary="group_members", back_populates="screens")

    @property
    def orientation(self) -> str:
        return "portrait" if self.height > self.width else "landscape"


class Group(Base):
    """A named set of screens; a group may sit inside another (membership then counts for both)."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime]

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    screens: Mapped[list[Screen]] = relationship(secondary="group_members", back_populates="groups")


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    screen_id: Mapped[int] = mapped_column(
        ForeignKey("screens.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Pairing(Base):
    """A player waiting to be claimed: it shows `code`; once claimed, it collects its token."""

    __tablename__ = "pairings"

    id: Mapped[int] = mapped_column(primary_key=True)
    hardware_id: Mapped[str] = mapped_column(String(128), index=True)
    code: Mapped[str] = mapped_column(String(6), index=True)
    width: Mapped[int] = mapped_column(default=1920)
    height: Mapped[int] = mapped_column(default=1080)
    name: Mapped[str] = mapped_column(String(200), default="")
    player_version: Mapped[str] = mapped_column(String(40), default="")
    # The key the asking player proved (None: a version-1 player); only a hello proving the
    # same key sees this pairing's code or collects its token.
    device_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Set when an operator claims the code; the player's next hello collects a device token
    # (minted then, so no token is ever stored in clear) and the pairing is deleted.
    screen_id: Mapped[int | None] = mapped_column(ForeignKey("screens.id", ondelete="CASCADE"))


class EnrolmentToken(Base):
    """Lets many players join an organisation without a pairing code each."""

    __tablename__ = "enrolment_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # What every screen enrolled with this token starts with.
    group_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    max_uses: Mapped[int] = mapped_column(default=1)
    uses: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


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
