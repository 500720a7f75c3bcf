"""The metadata database, and the base of every store kept in it.

Its own module so that the import order is one way: ``database`` (engines) <- ``migrations``
(Alembic, which takes the write lock) <- ``metadata``.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from reelgraph.core.database import is_sqlite, shared_engine, unavailable
from reelgraph.core.errors import InvalidInput
from reelgraph.core.migrations import upgrade
from reelgraph.core.urls import registered


class Database:
    """The metadata database at ``url``: the process's one engine for that URL, the schema
    brought up to date (every package's migrations, see ``core.migrations``) when opened.

    Every store in it (graph, runs, events, annotations, ...) is built from this object, so
    a workspace opens and migrates its database once, whatever number of stores it holds.
    """

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Database:
        registered("metadata", url)  # an unknown scheme is refused before any driver loads
        engine = shared_engine(url)
        try:
            upgrade(engine)
        except OperationalError as exc:  # nothing listening, a wrong password, a locked file
            engine.dispose()
            if is_sqlite(url):
                raise InvalidInput(f"cannot open the SQLite database {url} ({exc.orig})",
                                   "choose a writable home folder (--home or REELGRAPH_HOME) "
                                   "or fix its permissions") from None
            raise unavailable(url, exc, "be opened") from None
        return cls(url, engine)

    def close(self) -> None:
        """Return the engine's pooled connections; the engine stays usable."""
        self.engine.dispose()


class HoldsDatabase(Protocol):
    """What holds an open metadata database: a ``flows.Workspace``."""

    @property
    def database(self) -> Database:
        """The open metadata database."""
        ...


class MetadataStore:
    """Base of every store in the metadata database: built on an open ``Database``, or on
    the workspace that holds it (``EventLog(ws)``, ``AnnotationStore(ws)``)."""

    def __init__(self, database: Database | HoldsDatabase) -> None:
        if not isinstance(database, Database):
            database = database.database
        self.database = database
        self.url = database.url
        self.engine: Engine = database.engine

    def close(self) -> None:
        """Nothing to return: the engine is the ``Database``'s, shared by every store built on
        it, and only its owner (the workspace, or ``Graph.open(url)``) closes it."""
