"""The base of every store in the metadata database.

Its own module so that the import order is one way: ``database`` (engines) <- ``migrations``
(Alembic, which takes the write lock) <- ``metadata``.
"""

from __future__ import annotations

from sqlalchemy import Engine

from reelgraph.core.database import open_engine
from reelgraph.core.migrations import upgrade


class MetadataStore:
    """Base of every store in the metadata database: one engine, the schema brought up to
    date on open (every package's migrations, see ``core.migrations``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = open_engine(url)
        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()
