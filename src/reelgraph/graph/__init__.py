"""The model lifecycle graph: every dataset, feature, model, run, deployment, consumer, media
asset, monitor and incident is a node; typed edges carry lineage.

Object model: a node is identified by ``NodeKey`` (``rg://KIND/NAMESPACE/NAME[@VERSION]``);
each change to it is a revision with a validity interval, so every read can be asked "as of"
a past time. Edges (``src --kind--> dst``) have intervals too. Node and edge kinds are
registered, not a closed enum; an ``EdgeKind``'s ``LineageFlow`` says which way lineage
follows it. ``Graph`` is the API; ``GraphStore`` is the storage seam (SQLite, PostgreSQL).
"""

from reelgraph.graph.commonality import ReuseCandidate, Similar
from reelgraph.graph.export import to_dot, to_json
from reelgraph.graph.kinds import EdgeKind, LineageFlow
from reelgraph.graph.lifecycle import Batch, Graph
from reelgraph.graph.lineage import IMPACT_KINDS, Subgraph
from reelgraph.graph.model import (
    ChangeSet,
    Edge,
    EdgeSpec,
    Node,
    NodePatch,
    NodeSpec,
    RevisionConflict,
)
from reelgraph.graph.store import GraphStore, SearchHit
from reelgraph.graph.uri import NodeKey

__all__ = [
    "IMPACT_KINDS",
    "Batch",
    "ChangeSet",
    "Edge",
    "EdgeKind",
    "EdgeSpec",
    "Graph",
    "GraphStore",
    "LineageFlow",
    "Node",
    "NodeKey",
    "NodePatch",
    "NodeSpec",
    "ReuseCandidate",
    "RevisionConflict",
    "SearchHit",
    "Similar",
    "Subgraph",
    "to_dot",
    "to_json",
]
