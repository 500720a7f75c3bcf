"""One schema for the metadata database, one Alembic environment, one chain per package.

Each package that owns tables ships its revisions in ``<package>/migrations/versions`` as its
own Alembic branch; ``upgrade`` brings every branch to its head. Packages are named here, not
discovered, so that opening a database never imports more than these folders' scripts.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from reelgraph.core.database import write_connection

_HERE = Path(__file__).resolve().parent
_PACKAGES = ("graph", "flows", "features", "media", "recsys", "ops")


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    locations = [_HERE.parent.parent / name / "migrations" / "versions" for name in _PACKAGES]
    cfg.set_main_option("path_separator", "os")  # paths may hold spaces, never os.pathsep
    cfg.set_main_option(
        "version_locations", os.pathsep.join(str(p) for p in locations if p.is_dir())
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
