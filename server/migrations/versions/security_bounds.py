"""security bounds: approval snapshots, server-side sessions, login throttling, play ids per screen

Revision ID: security_1
Revises: org_timezone
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "security_1"
down_revision: str | None = "org_timezone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_snapshot", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("draft_reason", sa.String(length=300), nullable=False, server_default="")
        )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.alter_column("draft_reason", server_default=None)

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", server.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", server.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", server.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_login_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_sessions_token_hash")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", server.db.UTCDateTime(), nullable=False),
        sa.Column("blocked_until", server.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )

    with op.batch_alter_table("play_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_play_events_event_id", type_="unique")
        batch_op.create_unique_constraint("uq_play_events_screen_event", ["screen_id", "event_id"])


def downgrade() -> None:
    # Event ids were unique across screens: keep the first of each before restoring that.
    op.execute(
        "DELETE FROM play_events WHERE id NOT IN "
        "(SELECT MIN(id) FROM play_events GROUP BY event_id)"
    )
    with op.batch_alter_table("play_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_play_events_screen_event", type_="unique")
        batch_op.create_unique_constraint("uq_play_events_event_id", ["event_id"])

    op.drop_table("login_throttles")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))
    op.drop_table("login_sessions")

    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("draft_reason")
        batch_op.drop_column("approved_snapshot")
