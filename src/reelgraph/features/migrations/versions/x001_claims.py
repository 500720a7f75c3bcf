"""Feature compute claims and queued requests: one row per (feature version, entity key).

Revision ID: x001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "x001"
down_revision = None
branch_labels = ("features",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rg_feature_claim",
        sa.Column("feature", sa.Text, primary_key=True),  # the feature version's URI
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),  # queued, claimed or failed
        sa.Column("owner", sa.Text),  # the claimer computing it
        sa.Column("expires_at", sa.BigInteger),  # a claim past this may be taken over
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_rg_feature_claim_status", "rg_feature_claim", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("rg_feature_claim")
