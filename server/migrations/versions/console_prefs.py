"""console preferences: each user's language and time zone

Revision ID: console_prefs
Revises: security_1
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "console_prefs"
down_revision: str | None = "security_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("timezone")
        batch.drop_column("locale")
