"""device keys on screens and pairings; rate-limit counters

Revision ID: device_keys
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "device_keys"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("screens") as batch:
        batch.add_column(sa.Column("device_key", sa.String(length=64), nullable=True))
    with op.batch_alter_table("pairings") as batch:
        batch.add_column(sa.Column("device_key", sa.String(length=64), nullable=True))
    op.create_table(
        "rate_counters",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("window_start", server.db.UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", "window_start", name=op.f("pk_rate_counters")),
    )


def downgrade() -> None:
    op.drop_table("rate_counters")
    with op.batch_alter_table("pairings") as batch:
        batch.drop_column("device_key")
    with op.batch_alter_table("screens") as batch:
        batch.drop_column("device_key")
