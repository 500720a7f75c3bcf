"""The lifecycle graph: node identities, node revisions, edge intervals, kinds, search index.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = ("graph",)
depends_on = None

_CURRENT = sa.text("valid_to IS NULL")


def upgrade() -> None:
    op.create_table(
        "rg_node",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("uri", sa.Text, nullable=False, unique=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("namespace", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rg_node_kind", "rg_node", ["kind", "namespace"])
    op.create_table(
        "rg_node_rev",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("node_id", sa.BigInteger, sa.ForeignKey("rg_node.id"), nullable=False),
        sa.Column("rev", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.BigInteger, nullable=False),
        sa.Column("valid_to", sa.BigInteger),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("domain", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),  # JSON list, sorted
        sa.Column("properties", sa.Text, nullable=False),  # JSON object
        sa.Column("author", sa.Text, nullable=False),
    )
    op.create_index("ix_rg_node_rev_time", "rg_node_rev", ["node_id", "valid_from"])
    # One current revision per node; the partial index also serves "current" reads.
    op.create_index(
        "ux_rg_node_rev_current",
        "rg_node_rev",
        ["node_id"],
        unique=True,
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )
    op.create_table(
        "rg_edge",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("src_id", sa.BigInteger, nullable=False),
        sa.Column("dst_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("properties", sa.Text, nullable=False),
        sa.Column("valid_from", sa.BigInteger, nullable=False),
        sa.Column("valid_to", sa.BigInteger),
    )
    # Lineage walks hop by hop over current edges in both directions: partial indexes
    # keep those lookups small however much history accumulates.
    op.create_index(
        "ux_rg_edge_current",
        "rg_edge",
        ["src_id", "kind", "dst_id"],
        unique=True,
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )
    op.create_index(
        "ix_rg_edge_current_dst",
        "rg_edge",
        ["dst_id", "kind", "src_id"],
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )
    op.create_index("ix_rg_edge_src_time", "rg_edge", ["src_id", "valid_from"])
    op.create_index("ix_rg_edge_dst_time", "rg_edge", ["dst_id", "valid_from"])
    op.create_table(
        "rg_node_kind",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
    )
    op.create_table(
        "rg_edge_kind",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("flow", sa.Text, nullable=False),
        sa.Column("acyclic", sa.Boolean, nullable=False),
        sa.Column("connects", sa.Text, nullable=False),  # JSON list of [src, dst]
        sa.Column("description", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        # rowid = node id; holds the current revision's text only.
        op.execute(
            "CREATE VIRTUAL TABLE rg_node_fts USING fts5("
            "name, tags, description, properties, tokenize='porter unicode61')"
        )
    else:
        op.create_table(
            "rg_node_search",
            sa.Column("node_id", sa.BigInteger, primary_key=True),
            sa.Column("tsv", sa.dialects.postgresql.TSVECTOR, nullable=False),
        )
        op.execute("CREATE INDEX ix_rg_node_search_tsv ON rg_node_search USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE rg_node_fts")
    else:
        op.drop_table("rg_node_search")
    for table in ("rg_edge_kind", "rg_node_kind", "rg_edge", "rg_node_rev", "rg_node"):
        op.drop_table(table)
