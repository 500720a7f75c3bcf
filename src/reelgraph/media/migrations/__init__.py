"""Alembic revisions of the media tables (branch ``media``)."""
