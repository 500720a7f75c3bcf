"""Alembic revisions of the RecSysOps tables (branch "ops")."""
