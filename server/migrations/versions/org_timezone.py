"""organisations get a time zone; new screens take their organisation's

Revision ID: org_timezone
Revises: alerts_1
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "org_timezone"
down_revision: str | None = "alerts_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing organisations keep the zone their screens were given until now: UTC.
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("timezone")
