"""Who runs a run and who works on a delivery, so a dead one can be told from a live one.

Revision ID: f004
Revises: f003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "f004"
down_revision = "f003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # host:pid:start of the process (core.liveness) and its last heartbeat (µs UTC).
    op.add_column("rg_run", sa.Column("owner", sa.Text))
    op.add_column("rg_run", sa.Column("heartbeat_at", sa.BigInteger))
    op.add_column("rg_event_delivery", sa.Column("owner", sa.Text))
    op.add_column("rg_event_delivery", sa.Column("heartbeat_at", sa.BigInteger))


def downgrade() -> None:
    op.drop_column("rg_event_delivery", "heartbeat_at")
    op.drop_column("rg_event_delivery", "owner")
    op.drop_column("rg_run", "heartbeat_at")
    op.drop_column("rg_run", "owner")
