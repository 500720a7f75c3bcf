"""``/api/v1/graph``: read, search, walk and write the lifecycle graph.

Node URIs (``rg://model/personalization/ranker@3``) contain ``/``, ``:`` and ``@``, so every
endpoint takes them as the query parameter ``uri`` (URL-encoded by any HTTP client). For
people typing URLs, ``GET /nodes/{uri}`` also accepts the URI as a path, with or without the
``rg://`` prefix: ``/nodes/model/personalization/ranker@3``.

``as_of`` is an ISO-8601 time with a zone (``2026-11-23T10:00:00Z``). A ``+`` in a query string
decodes as a space, so ``+00:00`` sent unencoded still reads as meant.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, Response

from reelgraph.api.auth import require_read, require_write
from reelgraph.api.deps import get_graph
from reelgraph.api.errors import ERROR_EXAMPLE, error_body
from reelgraph.api.schemas.graph import (
    URI,
    BatchIn,
    EdgeIn,
    EdgeKindIn,
    EdgeRef,
    HistoryOut,
    ImpactOut,
    KindsOut,
    NodeIn,
    NodeKindIn,
    NodePatchIn,
    NodeView,
    NodeWritten,
    PathOut,
    ReuseList,
    SearchOut,
    SimilarList,
    SubgraphOut,
    WriteResult,
)
from reelgraph.core import InvalidInput
from reelgraph.graph import (
    IMPACT_KINDS,
    ChangeSet,
    EdgeKind,
    EdgeSpec,
    Graph,
    LineageFlow,
    NodeKey,
    NodePatch,
    NodeSpec,
    Subgraph,
    to_dot,
    to_json,
)
from reelgraph.ops import open_incidents

Json = dict[str, Any]

_EXAMPLES = (
    (401, "Unauthorized", "missing or wrong bearer token",
     "writes need a bearer token and the request has none",
     "send the header 'Authorization: Bearer TOKEN' with the server's REELGRAPH_API_TOKEN"),
    (403, "WritesDisabled", "the server has no API token configured",
     "this server has no API token configured, so writes over HTTP are refused",
     "set REELGRAPH_API_TOKEN to a long random secret and restart the server"),
    (404, "NotFound", "the node (or edge) does not exist",
     "node rg://model/personalization/unified-ranker@9 does not exist",
     "find the right URI with `reelgraph graph search WORDS`"),
    (409, "Conflict", "the write breaks a rule of the stored graph (a version_of cycle, or "
     "If-Match / expected_revision names a revision that is no longer current)",
     "the 'version_of' edge rg://model/p/m@1 -> rg://model/p/m@2 would close a cycle",
     "'version_of' edges must form no cycle; reverse or drop one of them"),
    (422, "InvalidInput", "malformed input: bad URI, unknown kind, bad time, invalid JSON",
     ERROR_EXAMPLE["problem"], ERROR_EXAMPLE["fix"]),
)
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": summary,
        "content": {"application/json": {"example": error_body(error, problem, fix)}},
    }
    for status, error, summary, problem, fix in _EXAMPLES
}

reads = APIRouter(dependencies=[Depends(require_read)], responses=_ERRORS)
writes = APIRouter(dependencies=[Depends(require_write)], responses=_ERRORS)

UriParam = Query(description="node URI, rg://KIND/NAMESPACE/NAME[@VERSION]", examples=[URI])
AsOfParam = Query(None, description="ISO-8601 time with zone; default now",
                  examples=["2026-11-23T10:00:00Z"])
AUTHOR = Query("api", description="recorded on each revision written")


def _when(as_of: str | None) -> str | None:
    return as_of.replace(" ", "+") if as_of else None


def _subgraph(sub: Subgraph) -> Json:
    return sub.to_dict()


def _result(result: object) -> Json:
    """An ``ApplyResult`` as JSON (read by attribute, so no graph internals are imported)."""
    return WriteResult.model_validate(result, from_attributes=True).model_dump()


def _edge_dict(src: str, kind: str, dst: str, properties: Json) -> Json:
    return {"src": src, "kind": kind, "dst": dst, "properties": properties}


IfMatch = Header(
    None, description="the node revision this write was based on (the ETag of GET /node); "
    "the write is refused with 409 if the node has moved on. \"0\": the node must not exist",
    examples=['"3"'])


def _expected(uri: str, if_match: str | None, body_revision: int | None = None) -> dict[str, int]:
    """The ``ChangeSet.expected`` entry from an If-Match header or a body field."""
    if if_match is None:
        return {} if body_revision is None else {NodeKey.parse(uri).uri: body_revision}
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or (body_revision is not None and int(tag) != body_revision):
        raise InvalidInput(
            f"If-Match {if_match!r} is not one node revision"
            + (f" matching expected_revision {body_revision}" if body_revision is not None
               else ""),
            "send the ETag of GET /api/v1/graph/node (a revision number such as \"3\")")
    return {NodeKey.parse(uri).uri: int(tag)}


def _written(graph: Graph, key: NodeKey, result: object) -> JSONResponse:
    node = graph.show(key).to_dict()
    return JSONResponse({"node": node, "result": _result(result)},
                        headers={"ETag": f'"{node["revision"]}"'})


def _spec(body: NodeIn) -> NodeSpec:
    return NodeSpec(NodeKey.parse(body.uri), body.domain, body.owner, body.description,
                    tuple(body.tags), body.properties)


def _edge(body: EdgeRef, properties: Json | None = None) -> EdgeSpec:
    return EdgeSpec(NodeKey.parse(body.src), body.kind, NodeKey.parse(body.dst), properties or {})


# --- reads --------------------------------------------------------------------------------


def _view(graph: Graph, uri: str, as_of: str | None) -> Json:
    node = graph.show(uri, as_of)
    edges = [
        {"direction": direction, "kind": e.kind, "node": other.uri, "properties": e.properties,
         "valid_from": e.valid_from, "valid_to": e.valid_to}
        for direction, e, other in graph.edges(uri, as_of)
    ]
    return {"node": node.to_dict(), "edges": edges}


@reads.get("/node", response_model=NodeView, summary="A node and its edges",
           responses={200: {"headers": {"ETag": {"description": "the node's revision",
                                                 "schema": {"type": "string"}}}}})
def get_node(response: Response, uri: str = UriParam, as_of: str | None = AsOfParam,
             graph: Graph = Depends(get_graph)) -> Json:
    view = _view(graph, uri, _when(as_of))
    response.headers["ETag"] = f'"{view["node"]["revision"]}"'
    return view


@reads.get("/nodes/{uri:path}", response_model=NodeView, summary="A node by path")
def get_node_by_path(uri: str, as_of: str | None = AsOfParam,
                     graph: Graph = Depends(get_graph)) -> Json:
    """The same as ``GET /node?uri=``; the ``rg://`` prefix may be left out of the path."""
    # Some clients and proxies collapse '//' in a path, so 'rg:/x' is read as 'rg://x'.
    body = uri.removeprefix("rg:").lstrip("/")
    return _view(graph, f"rg://{body}", _when(as_of))


@reads.get("/history", response_model=HistoryOut, summary="Every revision of a node")
def history(uri: str = UriParam, graph: Graph = Depends(get_graph)) -> Json:
    return {"uri": uri, "revisions": [n.to_dict() for n in graph.history(uri)]}


@reads.get("/search", response_model=SearchOut, summary="Full-text search with filters")
def search(
    q: str = Query(max_length=500, examples=["ratings"],
                   description="words to find in names, descriptions, tags and properties"),
    kind: str | None = None,
    namespace: str | None = None,
    domain: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    limit: int = Query(20, ge=1, le=1000),
    as_of: str | None = AsOfParam,
    graph: Graph = Depends(get_graph),
) -> Json:
    hits = graph.search(q, limit, _when(as_of), kind=kind, namespace=namespace, domain=domain,
                        owner=owner, tag=tag)
    return {"query": q, "hits": [{"score": h.score, "node": h.node.to_dict()} for h in hits]}


Direction = Literal["upstream", "downstream"]
# The range is checked by the graph, which names it in its error.
DepthParam = Query(10, description="hops to follow")
EdgeKindParam = Query(None, description="follow only these edge kinds (repeat the parameter)")


def _walk(graph: Graph, uri: str, direction: Direction, depth: int,
          edge_kind: list[str] | None, as_of: str | None) -> Subgraph:
    return graph.lineage(uri, direction, depth, edge_kind or None, _when(as_of))


@reads.get("/lineage", response_model=SubgraphOut, summary="Upstream or downstream lineage")
def lineage(
    uri: str = UriParam,
    direction: Direction = "upstream",
    depth: int = DepthParam,
    edge_kind: list[str] | None = EdgeKindParam,
    as_of: str | None = AsOfParam,
    graph: Graph = Depends(get_graph),
) -> Json:
    sub = _walk(graph, uri, direction, depth, edge_kind, as_of)
    return {**_subgraph(sub), "incidents": _incidents(graph, sub)}


@reads.get("/impact", response_model=ImpactOut, summary="Who is affected downstream")
def impact(uri: str = UriParam, as_of: str | None = AsOfParam,
           graph: Graph = Depends(get_graph)) -> Json:
    sub = graph.impact(uri, _when(as_of))
    affected = {
        kind: [{**n.to_dict(), "depth": sub.depth[n.id]} for n in sub.of_kind(kind)]
        for kind in IMPACT_KINDS
    }
    return {"root": sub.root.uri, "affected": affected, "subgraph": _subgraph(sub),
            "incidents": _incidents(graph, sub)}


def _incidents(graph: Graph, sub: Subgraph) -> list[Json]:
    """Open incidents with an ``affects`` edge to a node of the answer (RecSysOps)."""
    return [i.to_dict() for i in open_incidents(graph, {n.uri for n in sub.nodes.values()})]


@reads.get("/path", response_model=PathOut, summary="A shortest chain of edges between nodes")
def path(
    start: str = Query(alias="from", description="URI of the first node", examples=[URI]),
    goal: str = Query(alias="to", description="URI of the last node",
                      examples=["rg://dataset/movielens/ratings"]),
    as_of: str | None = AsOfParam,
    graph: Graph = Depends(get_graph),
) -> Json:
    chain = graph.path(start, goal, _when(as_of))
    uris: dict[int, str] = {node.id: node.uri for node, _ in chain}
    steps = [
        {"node": node.to_dict(),
         "via": None if e is None else _edge_dict(uris[e.src_id], e.kind, uris[e.dst_id],
                                                  e.properties)}
        for node, e in chain
    ]
    return {"found": bool(steps), "steps": steps}


@reads.get(
    "/export",
    response_model=None,
    summary="A lineage subgraph as JSON or Graphviz DOT",
    responses={200: {"content": {"application/json": {}, "text/vnd.graphviz": {}}}},
)
def export(
    uri: str = UriParam,
    direction: Direction = "upstream",
    depth: int = DepthParam,
    edge_kind: list[str] | None = EdgeKindParam,
    format: Literal["json", "dot"] = "json",
    as_of: str | None = AsOfParam,
    graph: Graph = Depends(get_graph),
) -> Response:
    sub = _walk(graph, uri, direction, depth, edge_kind, as_of)
    if format == "dot":
        return Response(to_dot(sub), media_type="text/vnd.graphviz")
    return JSONResponse(to_json(sub))


@reads.get("/similar", response_model=SimilarList, summary="Models that share this one's inputs")
def similar(uri: str = UriParam, limit: int = Query(10, ge=1, le=100),
            as_of: str | None = AsOfParam, graph: Graph = Depends(get_graph)) -> Json:
    return {"uri": uri, "similar": [s.to_dict() for s in graph.similar(uri, limit, _when(as_of))]}


@reads.get("/reuse", response_model=ReuseList,
           summary="Other domains' features and embeddings that similar models use")
def reuse(uri: str = UriParam, min_similarity: float = Query(0.1, ge=0.0, le=1.0),
          as_of: str | None = AsOfParam, graph: Graph = Depends(get_graph)) -> Json:
    found = graph.reuse_candidates(uri, min_similarity, _when(as_of))
    return {"uri": uri, "candidates": [c.to_dict() for c in found]}


@reads.get("/kinds", response_model=KindsOut, summary="Registered node and edge kinds")
def kinds(graph: Graph = Depends(get_graph)) -> Any:
    return graph.store.registry().snapshot()


# --- writes -------------------------------------------------------------------------------


@writes.post("/nodes", response_model=NodeWritten, summary="Create or update one node")
def put_node(body: NodeIn, author: str = AUTHOR, if_match: str | None = IfMatch,
             graph: Graph = Depends(get_graph)) -> JSONResponse:
    """The whole node is replaced; with ``If-Match`` only if nobody changed it meanwhile."""
    spec = _spec(body)
    result = graph.apply(ChangeSet(nodes=[spec], author=author,
                                   expected=_expected(body.uri, if_match)))
    return _written(graph, spec.key, result)


@writes.patch("/nodes", response_model=NodeWritten, summary="Change some fields of one node")
def patch_node(body: NodePatchIn, author: str = AUTHOR, if_match: str | None = IfMatch,
               graph: Graph = Depends(get_graph)) -> JSONResponse:
    """Fields left out keep their current values; ``properties`` are merged key by key, so
    two clients changing different fields or properties both keep their change."""
    given = body.model_dump(include={"domain", "owner", "description", "tags"},
                            exclude_none=True)
    patch = NodePatch(NodeKey.parse(body.uri), given, body.properties, tuple(body.unset))
    expected = _expected(body.uri, if_match, body.expected_revision)
    result = graph.apply(ChangeSet(patches=[patch], author=author, expected=expected))
    return _written(graph, patch.key, result)


@writes.delete("/nodes", response_model=WriteResult,
               summary="Delete a node (a tombstone; its history stays) and close its edges")
def delete_node(uri: str = UriParam, author: str = AUTHOR, if_match: str | None = IfMatch,
                graph: Graph = Depends(get_graph)) -> Json:
    return _result(graph.apply(ChangeSet(delete_nodes=[NodeKey.parse(uri)], author=author,
                                         expected=_expected(uri, if_match))))


@writes.post("/edges", response_model=WriteResult, summary="Create or update one edge")
def put_edge(body: EdgeIn, author: str = AUTHOR, graph: Graph = Depends(get_graph)) -> Json:
    return _result(graph.apply(ChangeSet(edges=[_edge(body, body.properties)], author=author)))


@writes.delete("/edges", response_model=WriteResult, summary="Delete one edge")
def delete_edge(
    src: str = Query(examples=[URI]),
    kind: str = Query(examples=["trained_on"]),
    dst: str = Query(examples=["rg://dataset/movielens/ratings"]),
    author: str = AUTHOR,
    graph: Graph = Depends(get_graph),
) -> Json:
    edge = _edge(EdgeRef(src=src, kind=kind, dst=dst))
    return _result(graph.apply(ChangeSet(delete_edges=[edge], author=author)))


@writes.post("/batch", response_model=WriteResult,
             summary="Nodes, edges and deletions applied atomically")
def batch(body: BatchIn, author: str = AUTHOR, graph: Graph = Depends(get_graph)) -> Json:
    """Order within the batch: node writes, node deletions, edge deletions, edge writes."""
    changes = ChangeSet(
        nodes=[_spec(n) for n in body.nodes],
        edges=[_edge(e, e.properties) for e in body.edges],
        delete_nodes=[NodeKey.parse(uri) for uri in body.delete_nodes],
        delete_edges=[_edge(e) for e in body.delete_edges],
        author=author,
    )
    return _result(graph.apply(changes))


@writes.post("/kinds/node", response_model=KindsOut, summary="Register a node kind")
def add_node_kind(body: NodeKindIn, graph: Graph = Depends(get_graph)) -> Any:
    graph.register_node_kind(body.name, body.description)
    return graph.store.registry().snapshot()


@writes.post("/kinds/edge", response_model=KindsOut, summary="Register an edge kind")
def add_edge_kind(body: EdgeKindIn, graph: Graph = Depends(get_graph)) -> Any:
    pairs = frozenset((src, dst) for src, dst in body.connects)
    kind = EdgeKind(body.name, LineageFlow(body.flow), pairs, body.acyclic, body.description)
    graph.register_edge_kind(kind)
    return graph.store.registry().snapshot()


router = APIRouter(prefix="/api/v1/graph", tags=["graph"])
router.include_router(reads)
router.include_router(writes)
