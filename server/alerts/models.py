"""Alert rules and channels per organisation, incidents, and the outbox of their messages."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.accounts.models import Organisation
from server.db import Base, enum_column
from server.screens.models import Screen


class AlertKind(enum.StrEnum):
    OFFLINE = "offline"  # not seen for `minutes`
    ERRORS = "errors"  # the player reports errors
    STORAGE = "storage"  # cache shortage, or free disk under `min_free_bytes`
    MISMATCH = "mismatch"  # not showing what the schedule says


class ChannelKind(enum.StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class Event(enum.StrEnum):
    OPENED = "opened"
    RESOLVED = "resolved"


class AlertRule(Base):
    """A condition watched on every screen of the organisation's subtree; for each kind the
    rule of the nearest organisation on a screen's path applies."""

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("organisation_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AlertKind] = mapped_column(enum_column(AlertKind, 20))
    # How long the condition must hold before an incident opens.
    minutes: Mapped[int] = mapped_column(default=10)
    min_free_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class AlertChannel(Base):
    """Where an organisation's incidents go (those of its whole subtree): one webhook URL,
    or one e-mail address, each in its own language."""

    __tablename__ = "alert_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind, 20))
    target: Mapped[str] = mapped_column(String(2000))  # the URL or the address
    # Signs webhook bodies (HMAC-SHA256); kept in clear because signing needs it.
    secret: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(10), default="en")
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class Incident(Base):
    """One stretch of one condition on one screen. Pending (opened_at unset) while the
    condition has not yet held for its rule's minutes; open; then resolved."""

    __tablename__ = "alert_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    screen_id: Mapped[int] = mapped_column(ForeignKey("screens.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AlertKind] = mapped_column(enum_column(AlertKind, 20))
    # "<screen>:<kind>" while unresolved, NULL after: at most one live incident per pair.
    live_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    since: Mapped[datetime]  # when the condition began
    opened_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_at: Mapped[datetime | None]
    detail: Mapped[str] = mapped_column(String(500), default="")

    screen: Mapped[Screen] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Notification(Base):
    """The outbox: one row per (incident, channel, event), written before anything is sent.

    A sender claims rows with a conditional UPDATE; rows claimed together form one message
    (a digest when there are several), keyed by `message_key` for the receiver's dedup.
    """

    __tablename__ = "alert_notifications"
    __table_args__ = (UniqueConstraint("incident_id", "channel_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("alert_incidents.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("alert_channels.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[Event] = mapped_column(enum_column(Event, 10))
    created_at: Mapped[datetime]
    message_key: Mapped[str | None] = mapped_column(String(64), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]  # given up after the last attempt
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # What the message said of the incident, fixed when the event happened.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    incident: Mapped[Incident] = relationship(lazy="joined")
