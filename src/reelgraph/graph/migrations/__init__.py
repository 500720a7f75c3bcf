"""Alembic revisions of the graph tables (branch "graph")."""
