"""Registry names and their graph nodes.

A model is named ``NAMESPACE/NAME`` (``personalization/popularity``); it is the graph node
``rg://model/NAMESPACE/NAME`` and its version 3 is ``rg://model/NAMESPACE/NAME@3``. A consumer
is named the same way and is ``rg://consumer/NAMESPACE/NAME``. Neither part holds a ``/``,
so a name is also two path segments in the REST API.
"""

from __future__ import annotations

from reelgraph.core import InvalidInput
from reelgraph.graph import NodeKey

MODEL_KIND, CONSUMER_KIND = "model", "consumer"


def _key(kind: str, name: str, what: str, example: str) -> NodeKey:
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != 2 or not all(parts):
        raise InvalidInput(f"{what} name {name!r} is not NAMESPACE/NAME",
                           f"name it like {example!r} (one '/', no other)")
    try:
        return NodeKey(kind, parts[0], parts[1])
    except InvalidInput as exc:
        raise InvalidInput(f"{what} name {name!r}: {exc.problem}", exc.fix) from None


def model_key(name: str) -> NodeKey:
    return _key(MODEL_KIND, name, "model", "personalization/popularity")


def version_key(name: str, version: int) -> NodeKey:
    key = model_key(name)
    return NodeKey(key.kind, key.namespace, key.name, str(version))


def consumer_key(name: str) -> NodeKey:
    return _key(CONSUMER_KIND, name, "consumer", "messaging/notifications-service")
