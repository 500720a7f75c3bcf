"""Alembic revisions of the feature store's tables (branch ``features``)."""
