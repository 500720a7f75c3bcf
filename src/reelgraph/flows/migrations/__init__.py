"""Alembic revisions of the flows tables (branch "flows")."""
