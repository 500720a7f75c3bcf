"""The interaction log: events that arrive after a model's training, read at request time.

Revision ID: r001
Revises:
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "r001"
down_revision = None
branch_labels = ("recsys",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite: the rowid alias


def upgrade() -> None:
    op.create_table(
        "rg_interaction",  # append-only
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Text, nullable=False),  # external ids, as the API names them
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),  # unix seconds, UTC
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("created_at", sa.BigInteger, nullable=False),  # microseconds, UTC
    )
    op.create_index("ix_rg_interaction_user_time", "rg_interaction", ["user_id", "time"])


def downgrade() -> None:
    op.drop_index("ix_rg_interaction_user_time", "rg_interaction")
    op.drop_table("rg_interaction")
