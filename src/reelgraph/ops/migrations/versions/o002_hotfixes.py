"""RecSysOps hotfixes beside the rules: canvas switches, nearline invalidations, canaries.

Revision ID: o002
Revises: o001
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "o002"
down_revision = "o001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rg_ops_switch",  # a canvas served from a fallback environment until it expires
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("canvas", sa.Text, nullable=False),
        sa.Column("environment", sa.Text, nullable=False),  # fallback, nearline-only
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),  # a switch always lapses
        sa.Column("removed_at", sa.Float),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("incident", sa.Text),
    )
    op.create_table(
        "rg_ops_invalidation",  # nearline answers removed (and kept, to restore them)
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("selection", sa.Text, nullable=False),  # JSON: version, canvases, ...
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),  # JSON: the artifact ref
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("restored_at", sa.Float),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("incident", sa.Text),
    )
    op.create_table(
        "rg_ops_canary",  # a candidate version serving a share of members
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("production", sa.Integer, nullable=False),  # the version it is judged on
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("window_s", sa.Float, nullable=False),
        sa.Column("status", sa.Text, nullable=False),  # running, aborted, promoted, stopped
        sa.Column("ended_at", sa.Float),
        sa.Column("reason", sa.Text),
        sa.Column("who", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("rg_ops_canary", "rg_ops_invalidation", "rg_ops_switch"):
        op.drop_table(table)
