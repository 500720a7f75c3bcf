"""Node kinds and edge kinds: registered, not a closed enum.

An edge kind says which node kinds it may connect and which way lineage flows through it:

- ``UP``: the destination is upstream of the source (``feature derived_from dataset``).
- ``DOWN``: the source is upstream of the destination (``model deployed_as deployment``).
- ``NONE``: not lineage (``incident affects model``); traversals skip it unless asked.

Edge kinds marked ``acyclic`` refuse an edge that would close a cycle (``version_of``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reelgraph.core import InvalidInput
from reelgraph.graph.uri import _KIND


class LineageFlow(StrEnum):
    """Which way lineage runs along an edge kind: up, down or not at all."""
    UP = "up"
    DOWN = "down"
    NONE = "none"


ANY = "*"
SAME = "="  # destination must be of the same kind as the source


@dataclass(frozen=True)
class NodeKind:
    name: str
    description: str = ""


@dataclass(frozen=True)
class EdgeKind:
    """A registered kind of edge: which node kinds it joins and which way lineage flows along it."""
    name: str
    flow: LineageFlow
    # (source kind, destination kind) pairs; ANY matches every kind, SAME as a destination
    # means "the source's kind".
    connects: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    acyclic: bool = False
    description: str = ""

    def allows(self, src_kind: str, dst_kind: str) -> bool:
        for s, d in self.connects:
            if s not in (ANY, src_kind):
                continue
            if d in (ANY, dst_kind) or (d == SAME and src_kind == dst_kind):
                return True
        return False


def _pairs(srcs: Iterable[str], dsts: Iterable[str]) -> frozenset[tuple[str, str]]:
    dst_list = list(dsts)
    return frozenset((s, d) for s in srcs for d in dst_list)


_DATA = ("dataset", "feature", "embedding")
_PRODUCED = (*_DATA, "artifact", "model")

BUILTIN_NODE_KINDS: tuple[NodeKind, ...] = (
    NodeKind("dataset", "a table, file or stream of records"),
    NodeKind("feature", "a named value computed per entity"),
    NodeKind("embedding", "a vector feature per entity"),
    NodeKind("model", "a model or one version of it (versions carry @VERSION)"),
    NodeKind("run", "one execution of a flow or job"),
    NodeKind("job", "a flow, pipeline or scheduled job (OpenLineage job)"),
    NodeKind("artifact", "a value a run stored"),
    NodeKind("experiment", "an A/B test or offline experiment"),
    NodeKind("experiment_cell", "one arm of an experiment"),
    NodeKind("deployment", "a model serving somewhere"),
    NodeKind("consumer", "a service or team that uses a model or its output"),
    NodeKind("media_asset", "a video, image or audio file"),
    NodeKind("monitor", "a check that watches a node"),
    NodeKind("incident", "an issue that was detected and handled"),
)

BUILTIN_EDGE_KINDS: tuple[EdgeKind, ...] = (
    EdgeKind(
        "derived_from",
        LineageFlow.UP,
        _pairs((*_DATA, "artifact", "model"), (*_DATA, "artifact", "model", "media_asset")),
        acyclic=True,
        description="computed from",
    ),
    EdgeKind("trained_on", LineageFlow.UP, _pairs(("model",), _DATA), description="a model's data"),
    EdgeKind(
        "uses_feature",
        LineageFlow.UP,
        _pairs(("model", "feature", "embedding", "deployment"), ("feature", "embedding")),
        description="reads a feature at training or serving time",
    ),
    EdgeKind(
        "produced_by", LineageFlow.UP, _pairs(_PRODUCED, ("run", "job")),
        description="written by a run"
    ),
    EdgeKind(
        "reads",
        LineageFlow.UP,
        _pairs(("run", "job"), (*_PRODUCED, "media_asset")),
        description="a run's input",
    ),
    EdgeKind("run_of", LineageFlow.UP, _pairs(("run",), ("job",)), description="a run of a job"),
    EdgeKind(
        "version_of",
        LineageFlow.UP,
        frozenset({(ANY, SAME)}),
        acyclic=True,
        description="a version of a node of the same kind",
    ),
    EdgeKind(
        "deployed_as", LineageFlow.DOWN, _pairs(("model",), ("deployment",)),
        description="served as"
    ),
    EdgeKind(
        "consumed_by",
        LineageFlow.DOWN,
        _pairs(("model", "deployment", *_DATA), ("consumer",)),
        description="used by a downstream service or team",
    ),
    EdgeKind(
        "part_of",
        LineageFlow.NONE,
        _pairs(("run",), ("experiment_cell",)) | _pairs(("experiment_cell",), ("experiment",)),
        acyclic=True,
        description="belongs to",
    ),
    EdgeKind(
        "in_experiment",
        LineageFlow.DOWN,
        _pairs(("model",), ("experiment",)),
        description="tested in an experiment (derived from run → cell → experiment)",
    ),
    EdgeKind(
        "monitors",
        LineageFlow.UP,  # the monitor depends on what it watches: it is downstream of it
        _pairs(("monitor",), (ANY,)),
        description="a monitor watches a node",
    ),
    EdgeKind("affects", LineageFlow.NONE, _pairs(("incident",), (ANY,)),
             description="an incident hit"),
)


class KindRegistry:
    """The node and edge kinds a store knows: the built-ins plus those registered at run time."""

    def __init__(
        self,
        node_kinds: Iterable[NodeKind] = BUILTIN_NODE_KINDS,
        edge_kinds: Iterable[EdgeKind] = BUILTIN_EDGE_KINDS,
    ) -> None:
        self.node_kinds: dict[str, NodeKind] = {k.name: k for k in node_kinds}
        self.edge_kinds: dict[str, EdgeKind] = {k.name: k for k in edge_kinds}

    def add_node_kind(self, kind: NodeKind) -> None:
        if not _KIND.match(kind.name):
            raise InvalidInput(
                f"node kind name {kind.name!r} is not allowed",
                "use lower case letters, digits and '_', starting with a letter",
            )
        self.node_kinds[kind.name] = kind

    def add_edge_kind(self, kind: EdgeKind) -> None:
        if not _KIND.match(kind.name):
            raise InvalidInput(
                f"edge kind name {kind.name!r} is not allowed",
                "use lower case letters, digits and '_', starting with a letter",
            )
        for s, d in kind.connects:
            for k in (s, d):
                if k not in (ANY, SAME) and k not in self.node_kinds:
                    raise InvalidInput(
                        f"edge kind {kind.name!r} connects unknown node kind {k!r}",
                        "register that node kind first",
                    )
        self.edge_kinds[kind.name] = kind

    def node_kind(self, name: str) -> NodeKind:
        try:
            return self.node_kinds[name]
        except KeyError:
            raise InvalidInput(
                f"unknown node kind {name!r}",
                f"use one of {sorted(self.node_kinds)} or register it first "
                "(graph.register_node_kind)",
            ) from None

    def edge_kind(self, name: str) -> EdgeKind:
        try:
            return self.edge_kinds[name]
        except KeyError:
            raise InvalidInput(
                f"unknown edge kind {name!r}",
                f"use one of {sorted(self.edge_kinds)} or register it first "
                "(graph.register_edge_kind)",
            ) from None

    def check_edge(self, src_kind: str, kind: str, dst_kind: str) -> EdgeKind:
        edge_kind = self.edge_kind(kind)
        if not edge_kind.allows(src_kind, dst_kind):
            allowed = sorted(
                f"{s}->{src_kind if d == SAME else d}" for s, d in edge_kind.connects
            )
            raise InvalidInput(
                f"a {kind!r} edge may not connect a {src_kind} to a {dst_kind}",
                f"{kind!r} connects {', '.join(allowed)}; pick another edge kind "
                "or register one that allows this",
            )
        return edge_kind

    def kinds_with_flow(self, *flows: LineageFlow) -> dict[LineageFlow, list[str]]:
        return {f: sorted(k.name for k in self.edge_kinds.values() if k.flow == f) for f in flows}

    def snapshot(self) -> Mapping[str, object]:
        return {
            "node_kinds": [{"name": k.name, "description": k.description} for k in
                           self.node_kinds.values()],
            "edge_kinds": [
                {
                    "name": k.name,
                    "flow": k.flow.value,
                    "acyclic": k.acyclic,
                    "connects": sorted([list(p) for p in k.connects]),
                    "description": k.description,
                }
                for k in self.edge_kinds.values()
            ],
        }
