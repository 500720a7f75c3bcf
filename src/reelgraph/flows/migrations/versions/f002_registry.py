"""The model registry: models, versions, stage transitions (the audit), gates, consumers.

Revision ID: f002
Revises: f001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "f002"
down_revision = "f001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rg_model",
        sa.Column("name", sa.Text, primary_key=True),  # NAMESPACE/NAME
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rg_model_version",
        sa.Column("model", sa.Text, sa.ForeignKey("rg_model.name"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, sa.ForeignKey("rg_run.id"), nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("artifact", sa.Text, nullable=False),  # JSON ArtifactRef
        sa.Column("metrics", sa.Text, nullable=False),  # JSON {name: number}
        sa.Column("signature", sa.Text, nullable=False),  # JSON
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rg_model_version_stage", "rg_model_version", ["model", "stage"])
    op.create_table(
        "rg_model_transition",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("from_stage", sa.Text, nullable=False),
        sa.Column("to_stage", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),  # applied, refused
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("gates", sa.Text, nullable=False),  # JSON list of GateResult
        sa.ForeignKeyConstraint(["model", "version"],
                                ["rg_model_version.model", "rg_model_version.version"]),
    )
    op.create_index("ix_rg_model_transition_model", "rg_model_transition", ["model", "id"])
    op.create_table(
        "rg_model_gate",
        sa.Column("model", sa.Text, sa.ForeignKey("rg_model.name"), primary_key=True),
        sa.Column("stage", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),  # KIND:METRIC
        sa.Column("spec", sa.Text, nullable=False),  # JSON, Gate.to_dict()
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rg_model_consumer",
        sa.Column("model", sa.Text, sa.ForeignKey("rg_model.name"), primary_key=True),
        sa.Column("consumer", sa.Text, primary_key=True),  # NAMESPACE/NAME
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rg_model_consumer")
    op.drop_table("rg_model_gate")
    op.drop_table("rg_model_transition")
    op.drop_table("rg_model_version")
    op.drop_table("rg_model")
