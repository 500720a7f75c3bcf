"""Monitors as graph nodes: ``rg://monitor/NS/NAME``, ``monitors`` edges to what they watch.

A monitor has a kind (what it observes), a source (where it reads), a window, an owner who
receives its alerts (and optionally a webhook), and once learned, its reference (an artifact
in the artifact store, named in the node's properties).

- ``serving``: the impression log of a deployment (and, given an outcomes dataset, the
  members' plays joined to it): health, prediction drift, exposure, online quality;
- ``dataset``: a folder of Parquet partitions: volume, freshness, schema;
- ``inputs``: the serving model version's item inputs against the reference version's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reelgraph.core import InvalidInput, NotFound
from reelgraph.graph import Graph, Node, NodeKey

KINDS = ("serving", "dataset", "inputs")
AUTHOR = "reelgraph ops"


@dataclass(frozen=True)
class Monitor:
    uri: str
    kind: str
    watches: tuple[str, ...]
    owner: str
    source: Mapping[str, Any]
    window_s: float = 86_400.0
    webhook: str | None = None
    reference: Mapping[str, Any] | None = None  # an ArtifactRef as a dict, once learned
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri, "kind": self.kind, "watches": list(self.watches),
                "owner": self.owner, "source": dict(self.source), "window_s": self.window_s,
                "webhook": self.webhook, "learned": self.reference is not None,
                "description": self.description}


def monitor_key(namespace: str, name: str) -> NodeKey:
    return NodeKey("monitor", namespace, name)


def save_monitor(graph: Graph, monitor: Monitor) -> None:
    """Write the monitor node and its ``monitors`` edges in one change set."""
    if monitor.kind not in KINDS:
        raise InvalidInput(f"unknown monitor kind {monitor.kind!r}",
                           f"use one of {', '.join(KINDS)}")
    if not monitor.owner:
        raise InvalidInput(f"monitor {monitor.uri} has no owner",
                           "name the person or team its alerts go to (owner=...)")
    for uri in monitor.watches:
        if graph.get(uri) is None:
            raise NotFound(f"monitor {monitor.uri} watches {uri}, which is not in the graph",
                           "add that node first, or watch a node that exists")
    with graph.batch(author=AUTHOR) as b:
        b.add(monitor.uri, owner=monitor.owner, description=monitor.description,
              tags=[monitor.kind],
              properties={"kind": monitor.kind, "source": dict(monitor.source),
                          "window_s": monitor.window_s, "webhook": monitor.webhook,
                          "reference": None if monitor.reference is None
                          else dict(monitor.reference), **monitor.extra})
        for uri in monitor.watches:
            b.link(monitor.uri, "monitors", uri)


def monitor_of(graph: Graph, node: Node) -> Monitor:
    p = node.properties
    watches = tuple(other.uri for way, edge, other in graph.edges(node.key)
                    if way == "out" and edge.kind == "monitors")
    known = {"kind", "source", "window_s", "webhook", "reference"}
    return Monitor(node.uri, p["kind"], watches, node.owner, p.get("source") or {},
                   float(p.get("window_s", 86_400.0)), p.get("webhook"), p.get("reference"),
                   node.description, {k: v for k, v in p.items() if k not in known})


def load_monitor(graph: Graph, uri: str) -> Monitor:
    node = graph.get(uri)
    if node is None or node.kind != "monitor":
        raise NotFound(f"no monitor {uri}",
                       "list them with `reelgraph ops monitors` and pass one's URI")
    if not is_checked(node):
        raise InvalidInput(f"{uri} is a monitor node without a check kind, so ops cannot run it",
                           f"declare it through ops with one of the kinds {', '.join(KINDS)}")
    return monitor_of(graph, node)


def is_checked(node: Node) -> bool:
    """Whether ops runs this monitor node: monitors declared elsewhere (a catalog's
    documentation node) carry no check kind and are listed by the graph, not checked."""
    return node.properties.get("kind") in KINDS


def list_monitors(graph: Graph) -> list[Monitor]:
    return [monitor_of(graph, n) for n in graph.find(kind="monitor") if is_checked(n)]
