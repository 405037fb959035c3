"""Personal links and the sessions they open: a generation counter per person (revoking raises it),
the browsers signed in (the session id's hash, timeouts, revocation), and an extension the agency
asked for on the occurrence.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("occurrence", sa.Column("extension_requested", sa.Date(), nullable=True))
    op.create_table(
        "person_link",
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "web_session",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
    )
    op.create_index("ix_web_session_email", "web_session", ["email"])


def downgrade() -> None:
    op.drop_index("ix_web_session_email", "web_session")
    op.drop_table("web_session")
    op.drop_table("person_link")
    op.drop_column("occurrence", "extension_requested")
