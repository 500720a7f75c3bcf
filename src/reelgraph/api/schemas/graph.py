"""Bodies of the graph API. Times are microseconds since the Unix epoch (UTC), as stored;
``as_of`` parameters take ISO-8601 instead."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reelgraph.api.schemas.times import Timed

URI = "rg://model/personalization/unified-ranker@3"
DATASET = "rg://dataset/movielens/ratings"


class _In(BaseModel):
    # A misspelt field is an error, not silently ignored; strict: `true` is not the number 1,
    # nor 1 the string "1" (subclasses' configs merge with this one).
    model_config = ConfigDict(extra="forbid", strict=True)


# --- reads --------------------------------------------------------------------------------


class NodeOut(Timed):
    uri: str = Field(examples=[URI])
    kind: str = Field(examples=["model"])
    namespace: str = Field(examples=["personalization"])
    name: str = Field(examples=["unified-ranker"])
    version: str | None = Field(examples=["3"])
    domain: str = Field(examples=["personalization"])
    owner: str = Field(examples=["ranking-team"])
    description: str
    tags: list[str] = Field(examples=[["ranking", "multi-task"]])
    properties: dict[str, Any] = Field(examples=[{"framework": "torch"}])
    revision: int = Field(description="1 for the first write, +1 per change")
    valid_from: int = Field(description="microseconds since the epoch (UTC)")
    valid_to: int | None = Field(description="null while this revision is current")
    deleted: bool


class NodeEdgeOut(Timed):
    direction: Literal["out", "in"] = Field(description="out: this node is the source")
    kind: str = Field(examples=["trained_on"])
    node: str = Field(description="URI of the node at the other end", examples=[DATASET])
    properties: dict[str, Any]
    valid_from: int
    valid_to: int | None


class NodeView(BaseModel):
    node: NodeOut
    edges: list[NodeEdgeOut]


class HistoryOut(BaseModel):
    uri: str = Field(examples=[URI])
    revisions: list[NodeOut] = Field(description="oldest first; a tombstone has deleted=true")


class SearchHitOut(BaseModel):
    score: float = Field(description="higher is better")
    node: NodeOut


class SearchOut(BaseModel):
    query: str = Field(examples=["ratings"])
    hits: list[SearchHitOut]


class SubgraphNodeOut(NodeOut):
    depth: int = Field(description="hops from the root")


class SubgraphEdgeOut(BaseModel):
    src: str = Field(examples=[URI])
    kind: str = Field(examples=["trained_on"])
    dst: str = Field(examples=[DATASET])
    properties: dict[str, Any] = Field(default_factory=dict)


class SubgraphOut(BaseModel):
    root: str = Field(examples=[URI])
    nodes: list[SubgraphNodeOut]
    edges: list[SubgraphEdgeOut]
    incidents: list[dict[str, Any]] = Field(
        default_factory=list,
        description="open RecSysOps incidents affecting a node of this answer (lineage only)")


class ImpactOut(BaseModel):
    root: str = Field(examples=[DATASET])
    affected: dict[str, list[SubgraphNodeOut]] = Field(
        description="downstream nodes by kind: deployment, consumer, experiment, monitor"
    )
    subgraph: SubgraphOut
    incidents: list[dict[str, Any]] = Field(
        default_factory=list, description="open RecSysOps incidents affecting a node here")


class PathStep(BaseModel):
    node: NodeOut
    via: SubgraphEdgeOut | None = Field(description="the edge that led here; null for the start")


class PathOut(BaseModel):
    found: bool
    steps: list[PathStep]


class SimilarOut(BaseModel):
    model: str = Field(examples=["rg://model/ads/ctr-predictor@1"])
    domain: str = Field(examples=["ads"])
    owner: str
    score: float = Field(description="weighted Jaccard over shared inputs, 0 to 1")
    shared: list[str] = Field(description="URIs of the inputs both models use, heaviest first")


class SimilarList(BaseModel):
    uri: str = Field(examples=[URI])
    similar: list[SimilarOut]


class ReuseOut(BaseModel):
    input: str = Field(description="a feature or embedding this model does not use yet")
    domain: str
    owner: str
    used_by: str = Field(description="the similar model that uses it")
    used_by_domain: str
    similarity: float


class ReuseList(BaseModel):
    uri: str = Field(examples=[URI])
    candidates: list[ReuseOut]


class NodeKindOut(BaseModel):
    name: str
    description: str


class EdgeKindOut(BaseModel):
    name: str
    flow: Literal["up", "down", "none"]
    acyclic: bool
    connects: list[list[str]]
    description: str


class KindsOut(BaseModel):
    node_kinds: list[NodeKindOut]
    edge_kinds: list[EdgeKindOut]


# --- writes -------------------------------------------------------------------------------


class NodeIn(_In):
    """A node to create, or its new state (an unchanged node is not rewritten)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "uri": URI,
                    "owner": "ranking-team",
                    "description": "one model for every row and canvas",
                    "tags": ["ranking", "multi-task"],
                    "properties": {"framework": "torch", "auc": 0.81},
                }
            ]
        },
    )

    uri: str = Field(description="rg://KIND/NAMESPACE/NAME[@VERSION]", examples=[URI])
    domain: str | None = Field(None, description="defaults to the namespace")
    owner: str = ""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    properties: dict[str, Any] = Field(default_factory=dict)


class NodePatchIn(_In):
    """Only the fields given change; the rest stay as the node's current revision has them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"uri": URI, "owner": "ranking-team", "properties": {"auc": 0.82},
                 "unset": ["draft"], "expected_revision": 3}
            ]
        },
    )

    uri: str = Field(description="rg://KIND/NAMESPACE/NAME[@VERSION]", examples=[URI])
    domain: str | None = None
    owner: str | None = None
    description: str | None = None
    tags: list[str] | None = Field(None, description="replaces the node's tags when given")
    properties: dict[str, Any] = Field(
        default_factory=dict, description="merged into the node's properties, key by key")
    unset: list[str] = Field(default_factory=list, description="properties to remove")
    expected_revision: int | None = Field(
        None, ge=0, description="refuse with 409 unless the node is at this revision "
        "(the If-Match header does the same)")


class EdgeRef(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"src": URI, "kind": "trained_on", "dst": DATASET}]},
    )

    src: str = Field(examples=[URI])
    kind: str = Field(examples=["trained_on"])
    dst: str = Field(examples=[DATASET])


class EdgeIn(EdgeRef):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"src": URI, "kind": "trained_on", "dst": DATASET, "properties": {"split": "train"}}
            ]
        },
    )

    properties: dict[str, Any] = Field(default_factory=dict)


class BatchIn(_In):
    """Applied atomically: every write is stored, or (on any error) none is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "nodes": [{"uri": DATASET, "owner": "data-eng"}, {"uri": URI}],
                    "edges": [{"src": URI, "kind": "trained_on", "dst": DATASET}],
                    "delete_nodes": [],
                    "delete_edges": [],
                }
            ]
        },
    )

    nodes: list[NodeIn] = Field(default_factory=list)
    edges: list[EdgeIn] = Field(default_factory=list)
    delete_nodes: list[str] = Field(default_factory=list, description="URIs to tombstone")
    delete_edges: list[EdgeRef] = Field(default_factory=list)


class WriteResult(BaseModel):
    nodes_written: int = Field(description="new revisions; unchanged nodes are not rewritten")
    nodes_unchanged: int
    nodes_deleted: int
    edges_written: int
    edges_unchanged: int
    edges_deleted: int


class NodeWritten(BaseModel):
    node: NodeOut
    result: WriteResult


class NodeKindIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "notebook", "description": "a Jupyter notebook"}]},
    )

    name: str = Field(description="lower case letters, digits and '_'", examples=["notebook"])
    description: str = ""


class EdgeKindIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "explored_in",
                    "flow": "down",
                    "connects": [["dataset", "notebook"]],
                    "description": "a dataset explored in a notebook",
                }
            ]
        },
    )

    name: str = Field(examples=["explored_in"])
    flow: Literal["up", "down", "none"] = Field(
        description="up: dst is upstream of src; down: src is upstream of dst; none: not lineage"
    )
    # Pairs as two-item lists: JSON has no tuples, and strict models refuse lists as tuples.
    connects: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        min_length=1,
        description="(source kind, destination kind) pairs; '*' matches any kind, '=' as "
        "destination means the source's kind",
    )
    acyclic: bool = False
    description: str = ""
