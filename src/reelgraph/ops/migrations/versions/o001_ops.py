"""RecSysOps: check results (a time series), alerts, incident timelines, overlay rules.

Revision ID: o001
Revises:
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "o001"
down_revision = None
branch_labels = ("ops",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rg_ops_check",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("monitor", sa.Text, nullable=False),  # the monitor node's URI
        sa.Column("at", sa.Float, nullable=False),  # unix seconds of the window's end
        sa.Column("signal", sa.Text, nullable=False),
        sa.Column("value", sa.Float),  # NULL: not measurable
        sa.Column("z", sa.Float),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("change_id", sa.BigInteger, nullable=False),  # the graph's, when checked
    )
    op.create_index("ix_rg_ops_check_monitor", "rg_ops_check", ["monitor", "at"])
    op.create_table(
        "rg_ops_alert",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("monitor", sa.Text, nullable=False),
        sa.Column("watched", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("signal", sa.Text, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("z", sa.Float),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("incident", sa.Text),
        sa.Column("delivered", sa.Text),  # the webhook's answer, or why it failed
    )
    op.create_index("ix_rg_ops_alert_at", "rg_ops_alert", ["at"])
    op.create_table(
        "rg_ops_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),  # opened, alert, diagnosis, hotfix, ...
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),  # JSON
    )
    op.create_index("ix_rg_ops_event_incident", "rg_ops_event", ["incident", "id"])
    op.create_table(
        "rg_ops_rule",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("canvas", sa.Text, nullable=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),  # block, pin, boost
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float),
        sa.Column("removed_at", sa.Float),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("incident", sa.Text),
    )


def downgrade() -> None:
    for table in ("rg_ops_rule", "rg_ops_event", "rg_ops_alert", "rg_ops_check"):
        op.drop_table(table)
