"""One registry of URL schemes: which class serves which store for which URL.

Modules are named as strings and imported only when a URL asks for them, so heavy or
optional back-ends cost nothing until used.
"""

from __future__ import annotations

import importlib
from typing import Any

from reelgraph.core.errors import InvalidInput, MissingDependency

# port -> scheme -> "module:Class"
_BACKENDS: dict[str, dict[str, str]] = {
    "metadata": {
        "sqlite": "reelgraph.graph.sql.sqlite:SqliteGraphStore",
        "postgresql": "reelgraph.graph.sql.postgres:PostgresGraphStore",
        "postgresql+psycopg": "reelgraph.graph.sql.postgres:PostgresGraphStore",
        "postgres": "reelgraph.graph.sql.postgres:PostgresGraphStore",
    },
    "online": {
        "sqlite": "reelgraph.features.online.sqlite:SqliteOnlineStore",
        "redis": "reelgraph.features.online.redis:RedisOnlineStore",
        "rediss": "reelgraph.features.online.redis:RedisOnlineStore",
    },
}


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].split(":", 1)[0] if "://" in url or ":" in url else ""


def backend_for(port: str, url: str) -> Any:
    """The class registered for ``url``'s scheme on ``port``."""
    schemes = _BACKENDS.get(port, {})
    scheme = scheme_of(url)
    if scheme not in schemes:
        raise InvalidInput(
            f"no {port} store for the URL {url!r}",
            f"use a URL starting with one of {sorted(s + '://' for s in schemes)}",
        )
    module_name, _, class_name = schemes[scheme].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise MissingDependency(exc.name or module_name, f"the {scheme}:// {port} store") from None
    return getattr(module, class_name)
