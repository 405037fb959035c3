"""The record's hash chain.

Every event carries its place in the database's one chain (`chain_seq`), the previous link's hash
(`prev_hash`) and the SHA-256 of its canonical form (`hash`; scheduler/store/chain.py). Things done to
the system rather than to an occurrence (API tokens added and revoked) are logged in `admin_event`,
links of the same chain. `chain_head` is one row naming the last link: appending locks it.

The events already recorded are chained here, once, in the order of their ids.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from scheduler.store.chain import GENESIS, chain_existing

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_index("ix_event_chain_seq", ["chain_seq"], unique=True)
    op.create_table(
        "admin_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("details", sa.String(), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("chain_seq", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=True),
        sa.Column("hash", sa.String(64), nullable=True),
    )
    op.create_index("ix_admin_event_chain_seq", "admin_event", ["chain_seq"], unique=True)
    head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("row_id", sa.Integer(), nullable=True),
    )
    bind = op.get_bind()
    bind.execute(head.insert(), [{"id": 1, "seq": 0, "hash": GENESIS}])
    event = sa.table("event", sa.column("at", sa.DateTime(timezone=True)), *(sa.column(name) for name in (
        "id", "occurrence_id", "actor", "action", "from_state", "to_state", "details", "client",
        "chain_seq", "prev_hash", "hash")))
    chain_existing(bind, event, head)


def downgrade() -> None:
    op.drop_table("chain_head")
    op.drop_index("ix_admin_event_chain_seq", "admin_event")
    op.drop_table("admin_event")
    with op.batch_alter_table("event") as batch:
        batch.drop_index("ix_event_chain_seq")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("chain_seq")
