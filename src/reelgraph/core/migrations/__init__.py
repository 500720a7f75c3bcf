"""One schema for the metadata database, one Alembic environment, one chain per package.

Each package that owns tables ships its revisions in ``<package>/migrations/versions`` as its
own Alembic branch and registers that package as an entry point of the group
``reelgraph.migrations`` (``pyproject.toml``); ``upgrade`` brings every branch to its head.
The entry points are only located, never imported, so that opening a database never imports
more than these folders' scripts.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from importlib.machinery import PathFinder
from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from reelgraph.core.database import write_connection

_HERE = Path(__file__).resolve().parent
GROUP = "reelgraph.migrations"


def _folder(module: str) -> Path | None:
    """Where the package ``module`` lives, found without importing it or its parents."""
    top, *rest = module.split(".")
    spec = importlib.util.find_spec(top)
    for depth in range(len(rest)):
        if spec is None or not spec.submodule_search_locations:
            return None
        name = ".".join([top, *rest[: depth + 1]])
        spec = PathFinder.find_spec(name, list(spec.submodule_search_locations))
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def version_locations() -> tuple[Path, ...]:
    """Every registered package's ``versions`` folder, in entry-point name order."""
    points = sorted(entry_points(group=GROUP), key=lambda point: point.name)
    folders = (_folder(point.value) for point in points)
    return tuple(f / "versions" for f in folders if f is not None and (f / "versions").is_dir())


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    locations = version_locations()
    cfg.set_main_option("path_separator", "os")  # paths may hold spaces, never os.pathsep
    cfg.set_main_option(
        "version_locations", os.pathsep.join(str(p) for p in locations)
    )
    return cfg


def upgrade(engine: Engine) -> None:
    """Run pending migrations of every package; cheap when the schema is current.

    Runs under the database's write lock, and checks again once it holds it, so processes
    opening a new database at the same moment migrate it once instead of colliding.
    """
    cfg = config()
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    with engine.connect() as connection:
        if set(MigrationContext.configure(connection).get_current_heads()) == heads:
            return
    with write_connection(engine) as connection, connection.begin():
        if set(MigrationContext.configure(connection).get_current_heads()) == heads:
            return
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")
