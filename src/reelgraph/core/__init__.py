"""Settings, errors, the clock, atomic files, the URL-scheme registry and the metadata
database's base store: what every other package shares.

``Database`` (the metadata database: one engine per URL, migrated on open), ``MetadataStore``
(the base of the stores kept in it) and ``write_connection`` load SQLAlchemy, so they are
imported on first use (``import reelgraph.core`` stays light for the CLI).
"""

import importlib
import typing

from reelgraph.core.clock import from_us, now_us, parse_time, to_us
from reelgraph.core.errors import (
    Conflict,
    InvalidInput,
    MissingDependency,
    NotFound,
    ReelgraphError,
    Unauthorized,
    Unavailable,
)
from reelgraph.core.faults import fault_point
from reelgraph.core.files import (
    atomic_path,
    collect_temporaries,
    import_file,
    new_file_mode,
    write_atomic,
)
from reelgraph.core.liveness import die_with_parent, is_dead, is_local, this_process
from reelgraph.core.secrets import mask
from reelgraph.core.settings import Settings, home_folder
from reelgraph.core.urls import backend_for

if typing.TYPE_CHECKING:
    from reelgraph.core.database import unavailable, write_connection
    from reelgraph.core.metadata import Database, HoldsDatabase, MetadataStore

# Loaded on first use, with SQLAlchemy (and Alembic): name -> module.
_LAZY = {"Database": "metadata", "HoldsDatabase": "metadata", "MetadataStore": "metadata",
         "unavailable": "database", "write_connection": "database"}

__all__ = [
    "Conflict",
    "Database",
    "HoldsDatabase",
    "InvalidInput",
    "MetadataStore",
    "MissingDependency",
    "NotFound",
    "ReelgraphError",
    "Settings",
    "Unauthorized",
    "Unavailable",
    "atomic_path",
    "backend_for",
    "collect_temporaries",
    "die_with_parent",
    "fault_point",
    "from_us",
    "home_folder",
    "import_file",
    "is_dead",
    "is_local",
    "mask",
    "new_file_mode",
    "now_us",
    "parse_time",
    "this_process",
    "to_us",
    "unavailable",
    "write_atomic",
    "write_connection",
]


def __getattr__(name: str) -> typing.Any:
    if name in _LAZY:
        module = importlib.import_module(f"reelgraph.core.{_LAZY[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'reelgraph.core' has no attribute {name!r}")
