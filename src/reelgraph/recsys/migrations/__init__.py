"""Alembic revisions of the recommender's tables (branch ``recsys``)."""
