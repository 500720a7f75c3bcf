"""The base of every store in the metadata database.

Its own module so that the import order is one way: ``database`` (engines) <- ``migrations``
(Alembic, which takes the write lock) <- ``metadata``.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from reelgraph.core.database import is_sqlite, open_engine, unavailable
from reelgraph.core.errors import InvalidInput
from reelgraph.core.migrations import upgrade


class MetadataStore:
    """Base of every store in the metadata database: one engine, the schema brought up to
    date on open (every package's migrations, see ``core.migrations``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = open_engine(url)
        try:
            upgrade(self.engine)
        except OperationalError as exc:  # nothing listening, a wrong password, a locked file
            self.engine.dispose()
            if is_sqlite(url):
                raise InvalidInput(f"cannot open the SQLite database {url} ({exc.orig})",
                                   "choose a writable home folder (--home or REELGRAPH_HOME) "
                                   "or fix its permissions") from None
            raise unavailable(url, exc, "be opened") from None

    def close(self) -> None:
        self.engine.dispose()
