"""Node kinds that a package owns, checked by that package's rules on every write path.

A ``media_asset`` node is read back as a probed video by the media package; written freely
through the generic graph API (REST, ``Graph.apply``, OpenLineage), a node without a
``location`` broke every media listing, and one with new probe numbers rewrote what a real
video had been measured to be. So the store hands each written node of an owned kind, with
the node's current revision, to its owner's check, named here as ``"module:function"`` and
imported only when such a node is written (the graph never imports the package otherwise,
the same late binding as ``core.urls``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from reelgraph.graph.model import Node, NodeSpec

Check = Callable[[NodeSpec, Node | None], None]

OWNED_KINDS: dict[str, str] = {
    "media_asset": "reelgraph.media.assets:check_asset_node",
}


@cache
def _check(kind: str) -> Check:
    module, _, name = OWNED_KINDS[kind].partition(":")
    check: Check = getattr(importlib.import_module(module), name)
    return check


def check_owned(spec: NodeSpec, current: Node | None) -> None:
    """Raise the owner's error when ``spec`` breaks the rules of its kind's owner."""
    if spec.key.kind in OWNED_KINDS:
        _check(spec.key.kind)(spec, None if current is None or current.deleted else current)
