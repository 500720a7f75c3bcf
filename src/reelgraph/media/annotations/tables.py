"""The annotation tables as SQLAlchemy Core sees them (the DDL is the ``media`` migration's:
``media/migrations/versions/m001_annotations.py``)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

set_table = sa.Table(
    "rg_annotation_set", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("asset", sa.Text, nullable=False),
    sa.Column("producer", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("producer_version", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text),
    sa.Column("model_version", sa.Text),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("types", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

current_table = sa.Table(
    "rg_annotation_current", metadata,
    sa.Column("asset", sa.Text, primary_key=True),
    sa.Column("producer", sa.Text, primary_key=True),
    sa.Column("set_id", sa.Integer, sa.ForeignKey("rg_annotation_set.id"), nullable=False),
)

annotation_table = sa.Table(
    "rg_annotation", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("set_id", sa.Integer, sa.ForeignKey("rg_annotation_set.id"), nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("start_ns", sa.BigInteger, nullable=False),
    sa.Column("end_ns", sa.BigInteger, nullable=False),
    sa.Column("bin", sa.BigInteger, nullable=False),
    sa.Column("x0", sa.Float), sa.Column("y0", sa.Float),
    sa.Column("x1", sa.Float), sa.Column("y1", sa.Float),
    sa.Column("polygon", sa.Text),
    sa.Column("label", sa.Text),
    sa.Column("confidence", sa.Float),
    sa.Column("feature", sa.Text),
    sa.Column("feature_key", sa.Text),
    sa.Column("data", sa.Text),
    sa.Column("vector", sa.LargeBinary),
)

