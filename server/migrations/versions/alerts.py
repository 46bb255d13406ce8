"""alerts: rules, channels, incidents and the notification outbox

Revision ID: alerts_1
Revises: device_keys
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "alerts_1"
down_revision: str | None = "device_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = sa.Enum(
    "offline", "errors", "storage", "mismatch", name="alertkind", native_enum=False, length=20
)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("min_free_bytes", sa.BigInteger(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", server.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_alert_rules_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sa.UniqueConstraint("organisation_id", "kind", name=op.f("uq_alert_rules_organisation_id")),
    )
    op.create_index(
        op.f("ix_alert_rules_organisation_id"), "alert_rules", ["organisation_id"], unique=False
    )
    op.create_table(
        "alert_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("webhook", "email", name="channelkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", server.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_alert_channels_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_channels")),
    )
    op.create_index(
        op.f("ix_alert_channels_organisation_id"),
        "alert_channels",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screen_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("live_key", sa.String(length=40), nullable=True),
        sa.Column("since", server.db.UTCDateTime(), nullable=False),
        sa.Column("opened_at", server.db.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", server.db.UTCDateTime(), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_alert_incidents_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["screen_id"],
            ["screens.id"],
            name=op.f("fk_alert_incidents_screen_id_screens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_incidents")),
        sa.UniqueConstraint("live_key", name=op.f("uq_alert_incidents_live_key")),
    )
    op.create_index(
        op.f("ix_alert_incidents_opened_at"), "alert_incidents", ["opened_at"], unique=False
    )
    op.create_index(
        op.f("ix_alert_incidents_organisation_id"),
        "alert_incidents",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_alert_incidents_screen_id"), "alert_incidents", ["screen_id"], unique=False
    )
    op.create_table(
        "alert_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column(
            "event",
            sa.Enum("opened", "resolved", name="event", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("created_at", server.db.UTCDateTime(), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_until", server.db.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", server.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", server.db.UTCDateTime(), nullable=True),
        sa.Column("failed_at", server.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["alert_channels.id"],
            name=op.f("fk_alert_notifications_channel_id_alert_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["alert_incidents.id"],
            name=op.f("fk_alert_notifications_incident_id_alert_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notifications")),
        sa.UniqueConstraint(
            "incident_id", "channel_id", "event", name=op.f("uq_alert_notifications_incident_id")
        ),
    )
    for column in ("channel_id", "incident_id", "message_key"):
        op.create_index(
            op.f(f"ix_alert_notifications_{column}"),
            "alert_notifications",
            [column],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("alert_notifications")
    op.drop_table("alert_incidents")
    op.drop_table("alert_channels")
    op.drop_table("alert_rules")
