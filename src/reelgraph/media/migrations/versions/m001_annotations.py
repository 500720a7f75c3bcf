"""Annotations: producer sets (versions), the current set per (asset, producer), the rows.

Revision ID: m001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "m001"
down_revision = None
branch_labels = ("media",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite: the rowid alias


def upgrade() -> None:
    op.create_table(
        "rg_annotation_set",  # one producer's write for one asset; never changed afterwards
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("asset", sa.Text, nullable=False),
        sa.Column("producer", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),  # 1, 2, ... per (asset, producer)
        sa.Column("producer_version", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text),
        sa.Column("model_version", sa.Text),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("types", sa.Text, nullable=False),  # JSON list of the types it holds
        sa.Column("created_at", sa.BigInteger, nullable=False),  # microseconds, UTC
        sa.UniqueConstraint("asset", "producer", "version", name="uq_rg_annotation_set"),
    )
    op.create_table(
        "rg_annotation_current",  # the pointer a replacement flips
        sa.Column("asset", sa.Text, primary_key=True),
        sa.Column("producer", sa.Text, primary_key=True),
        sa.Column("set_id", sa.Integer, sa.ForeignKey("rg_annotation_set.id"), nullable=False),
    )
    op.create_table(
        "rg_annotation",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("set_id", sa.Integer, sa.ForeignKey("rg_annotation_set.id"), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("start_ns", sa.BigInteger, nullable=False),
        sa.Column("end_ns", sa.BigInteger, nullable=False),
        sa.Column("bin", sa.BigInteger, nullable=False),  # media/annotations/timebins.py
        sa.Column("x0", sa.Float), sa.Column("y0", sa.Float),  # the region's bounding box
        sa.Column("x1", sa.Float), sa.Column("y1", sa.Float),
        sa.Column("polygon", sa.Text),  # JSON [[x, y], ...]
        sa.Column("label", sa.Text),
        sa.Column("confidence", sa.Float),
        sa.Column("feature", sa.Text),  # embedding references: feature version URI ...
        sa.Column("feature_key", sa.Text),  # ... and entity key
        sa.Column("data", sa.Text),  # JSON object; NULL when empty
        sa.Column("vector", sa.LargeBinary),  # inline float32 vector
    )
    op.create_index("ix_rg_annotation_window", "rg_annotation", ["set_id", "bin", "start_ns"])
    labelled = sa.text("label IS NOT NULL")
    op.create_index("ix_rg_annotation_label", "rg_annotation", ["label", "confidence"],
                    sqlite_where=labelled, postgresql_where=labelled)
    referenced = sa.text("feature IS NOT NULL")
    op.create_index("ix_rg_annotation_feature", "rg_annotation", ["feature", "feature_key"],
                    sqlite_where=referenced, postgresql_where=referenced)


def downgrade() -> None:
    op.drop_table("rg_annotation")
    op.drop_table("rg_annotation_current")
    op.drop_table("rg_annotation_set")
