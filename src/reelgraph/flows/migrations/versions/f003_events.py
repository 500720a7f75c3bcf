"""The durable event log, its cursors, flow subscriptions and deliveries; rg_run.source.

Revision ID: f003
Revises: f001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "f003"
down_revision = "f001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The file that defines a run's flow, so `reelgraph runs resume` needs no --file.
    op.add_column("rg_run", sa.Column("source", sa.Text))
    op.create_table(
        "rg_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),  # makes appends idempotent
        sa.Column("kind", sa.Text, nullable=False),  # dataset, media_asset, schedule
        sa.Column("uri", sa.Text),  # the node that changed (none for a schedule tick)
        sa.Column("flow", sa.Text),  # the flow a schedule tick is for (NAMESPACE/NAME)
        sa.Column("payload", sa.Text, nullable=False),  # JSON
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rg_event_kind", "rg_event", ["kind", "id"])
    op.create_table(
        "rg_event_cursor",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rg_event_subscription",
        sa.Column("flow", sa.Text, primary_key=True),
        sa.Column("since_event", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rg_event_delivery",
        sa.Column("event_id", sa.Integer, sa.ForeignKey("rg_event.id"), primary_key=True),
        sa.Column("flow", sa.Text, primary_key=True),  # one claim per (event, flow)
        sa.Column("status", sa.Text, nullable=False),  # running, retrying, succeeded, dead
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Text),  # the latest attempt's run
        sa.Column("runs", sa.Text, nullable=False),  # JSON list of every attempt's run id
        sa.Column("worker", sa.Text, nullable=False),
        sa.Column("next_at", sa.BigInteger),  # when a retrying delivery may run again
        sa.Column("error", sa.Text),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rg_event_delivery_status", "rg_event_delivery", ["status"])


def downgrade() -> None:
    op.drop_table("rg_event_delivery")
    op.drop_table("rg_event_subscription")
    op.drop_table("rg_event_cursor")
    op.drop_table("rg_event")
    with op.batch_alter_table("rg_run") as batch:
        batch.drop_column("source")
