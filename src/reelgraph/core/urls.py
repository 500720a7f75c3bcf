"""One registry of URL schemes: which class serves which store for which URL.

Back-ends are registered by the packages that own them, as entry points of the group
``reelgraph.url_schemes`` (``"port.scheme" = "module:Class"`` in ``pyproject.toml``), so
``core`` names no package above it. A back-end's module is imported only when a URL asks for
it, so heavy or optional back-ends cost nothing until used.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from reelgraph.core.errors import InvalidInput, MissingDependency

GROUP = "reelgraph.url_schemes"


@functools.cache
def _backends() -> dict[str, dict[str, EntryPoint]]:
    """port -> scheme -> entry point, read once per process."""
    found: dict[str, dict[str, EntryPoint]] = {}
    for point in entry_points(group=GROUP):
        port, _, scheme = point.name.partition(".")
        found.setdefault(port, {})[scheme] = point
    return found


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].split(":", 1)[0] if "://" in url or ":" in url else ""


def registered(port: str, url: str) -> EntryPoint:
    """The entry point registered for ``url``'s scheme on ``port`` (nothing imported yet)."""
    schemes = _backends().get(port, {})
    scheme = scheme_of(url)
    if scheme not in schemes:
        raise InvalidInput(
            f"no {port} store for the URL {url!r}",
            f"use a URL starting with one of {sorted(s + '://' for s in schemes)}",
        )
    return schemes[scheme]


def backend_for(port: str, url: str) -> Any:
    """The class registered for ``url``'s scheme on ``port``."""
    point = registered(port, url)
    scheme = scheme_of(url)
    try:
        return point.load()
    except ModuleNotFoundError as exc:
        module_name = point.module
        raise MissingDependency(exc.name or module_name, f"the {scheme}:// {port} store") from None
