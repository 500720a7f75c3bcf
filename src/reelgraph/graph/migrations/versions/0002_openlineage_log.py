"""The OpenLineage event log: every run event received, and which nodes each one mentions.

The OpenLineage source adapter reads a node's current state from here, so events may be
applied in any order, twice, or again after a resync.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rg_ol_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("digest", sa.Text, nullable=False, unique=True),  # SHA-256 of the payload
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("event_time", sa.BigInteger, nullable=False),  # microseconds, UTC
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),  # the event as received (JSON)
        sa.Column("received_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rg_ol_mention",
        sa.Column("uri", sa.Text, primary_key=True),
        sa.Column("event_id", sa.BigInteger, sa.ForeignKey("rg_ol_event.id"), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("rg_ol_mention")
    op.drop_table("rg_ol_event")
