"""Settings, errors, the clock, atomic files, the URL-scheme registry and the metadata
database's base store: what every other package shares.

``MetadataStore`` and ``write_connection`` load SQLAlchemy, so they are imported on first
use (``import reelgraph.core`` stays light for the CLI).
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
from reelgraph.core.files import atomic_path, import_file, write_atomic
from reelgraph.core.settings import Settings
from reelgraph.core.urls import backend_for

if typing.TYPE_CHECKING:
    from reelgraph.core.database import write_connection
    from reelgraph.core.metadata import MetadataStore

# Loaded on first use, with SQLAlchemy (and Alembic): name -> module.
_LAZY = {"MetadataStore": "metadata", "write_connection": "database"}

__all__ = [
    "Conflict",
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
    "from_us",
    "import_file",
    "now_us",
    "parse_time",
    "to_us",
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
