"""A user's own language.

Staff who are no contact had none: their pages followed the browser and their emails were in the
plan's language. `user.language` (kk, ru or en; NULL: not said) is set by `scheduler users add
--language` or on the person's own page.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("language")
