"""Throttle attempts.

The dashboard's Basic login and the sign-in page refuse a client address that tries too often.
What they count was kept in each process, so a second instance or a restart forgot it; it is now
a table every instance shares: one row per counted attempt (a failed login, a sign-in request),
by throttle (`purpose`) and client address (`key`), the one that reached the limit marked
(`refused`: the address is refused for a window from it). Rows older than their throttle's window
are deleted as they go: they are operational data, not part of the record.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refused", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_throttle_attempt_purpose_key_at", "throttle_attempt", ["purpose", "key", "at"])


def downgrade() -> None:
    op.drop_index("ix_throttle_attempt_purpose_key_at", "throttle_attempt")
    op.drop_table("throttle_attempt")
