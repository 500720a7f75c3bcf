"""Flow runs and their tasks.

Revision ID: f001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "f001"
down_revision = None
branch_labels = ("flows",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rg_run",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("flow", sa.Text, nullable=False),
        sa.Column("namespace", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("code_hash", sa.Text, nullable=False),
        sa.Column("git_commit", sa.Text, nullable=False),
        sa.Column("packages", sa.Text, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("executor", sa.Text, nullable=False),
        sa.Column("resume_of", sa.Text),
        sa.Column("trigger", sa.Text),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("ended_at", sa.BigInteger),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_rg_run_flow", "rg_run", ["namespace", "flow", "started_at"])
    op.create_table(
        "rg_task",
        sa.Column("run_id", sa.Text, sa.ForeignKey("rg_run.id"), primary_key=True),
        sa.Column("step", sa.Text, primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),  # -1 for a step that is not foreach
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("started_at", sa.BigInteger),
        sa.Column("ended_at", sa.BigInteger),
        sa.Column("cache_key", sa.Text, nullable=False),
        sa.Column("artifact", sa.Text),  # JSON ArtifactRef
        sa.Column("reused_from", sa.Text),
        sa.Column("log", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("traceback", sa.Text),
        sa.Column("reads", sa.Text, nullable=False),
    )
    op.create_index("ix_rg_task_cache", "rg_task", ["cache_key", "status"])


def downgrade() -> None:
    op.drop_table("rg_task")
    op.drop_table("rg_run")
