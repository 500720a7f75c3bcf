"""Bad input gets a 4xx JSON body naming the problem and the fix, and stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from graph_api_data import AUTH, BASE, RANKER, RANKER_2, RATINGS, WATCH, snapshot

from reelgraph.graph import Graph

MISSING = "rg://dataset/nowhere/missing"
NEW = "rg://dataset/movielens/links"

# (method, path, request keyword arguments, status, error, words the problem must contain)
CASES: list[Any] = [
    pytest.param("POST", "/nodes", {"json": {"uri": "rg://modle/p/x"}},
                 422, "InvalidInput", "unknown node kind", id="unknown-node-kind"),
    pytest.param("POST", "/edges", {"json": {"src": RANKER, "kind": "trainde_on", "dst": RATINGS}},
                 422, "InvalidInput", "unknown edge kind", id="unknown-edge-kind"),
    pytest.param("POST", "/edges", {"json": {"src": RATINGS, "kind": "deployed_as", "dst": RANKER}},
                 422, "InvalidInput", "may not connect", id="kinds-may-not-connect"),
    pytest.param("POST", "/edges", {"json": {"src": RANKER_2, "kind": "version_of", "dst": RANKER}},
                 409, "Conflict", "cycle", id="version-of-cycle"),
    pytest.param("POST", "/edges", {"json": {"src": RANKER, "kind": "trained_on", "dst": MISSING}},
                 404, "NotFound", "does not exist", id="edge-to-missing-node"),
    pytest.param("DELETE", "/nodes", {"params": {"uri": MISSING}},
                 404, "NotFound", "does not exist", id="delete-missing-node"),
    pytest.param("DELETE", "/edges",
                 {"params": {"src": RANKER, "kind": "trained_on", "dst": WATCH}},
                 404, "NotFound", "no 'trained_on' edge", id="delete-missing-edge"),
    pytest.param("POST", "/nodes",
                 {"content": b'{"uri": "rg://dataset/a/b",',
                  "headers": {"Content-Type": "application/json"}},
                 422, "InvalidInput", "not valid JSON", id="malformed-json"),
    pytest.param("POST", "/batch", {"json": [1, 2]},
                 422, "InvalidInput", "not a JSON object", id="json-not-an-object"),
    pytest.param("POST", "/nodes", {"content": b'{"uri": "rg://dataset/a/b"}'},
                 422, "InvalidInput", "not a JSON object", id="json-without-content-type"),
    pytest.param("POST", "/nodes", {"json": {"uri": "model/p/x"}},
                 422, "InvalidInput", "not a reelgraph URI", id="bad-uri"),
    pytest.param("POST", "/nodes", {"json": {"uri": "rg://model/p"}},
                 422, "InvalidInput", "lacks a kind, namespace or name", id="short-uri"),
    pytest.param("POST", "/nodes", {"json": {"uri": NEW, "ownr": "x"}},
                 422, "InvalidInput", "ownr", id="misspelt-field"),
    pytest.param("POST", "/nodes", {"json": {"uri": NEW, "tags": "a"}},
                 422, "InvalidInput", "tags", id="wrong-type"),
    pytest.param("POST", "/nodes",
                 {"content": b'{"uri": "rg://dataset/movielens/links", "properties": {"x": NaN}}',
                  "headers": {"Content-Type": "application/json"}},
                 422, "InvalidInput", "not plain JSON", id="nan-property"),
    pytest.param("POST", "/nodes", {"json": {"owner": "x"}},
                 422, "InvalidInput", "body field 'uri'", id="missing-field"),
    pytest.param("POST", "/batch",
                 {"json": {"nodes": [{"uri": NEW}],
                           "edges": [{"src": NEW, "kind": "derived_from", "dst": MISSING}]}},
                 404, "NotFound", MISSING, id="batch-missing-node-stores-nothing"),
    pytest.param("POST", "/batch",
                 {"json": {"nodes": [{"uri": NEW}, {"uri": "rg://model/personalization/x@1"}],
                           "edges": [{"src": RANKER_2, "kind": "version_of", "dst": RANKER}]}},
                 409, "Conflict", "cycle", id="batch-cycle-stores-nothing"),
    pytest.param("POST", "/batch",
                 {"json": {"nodes": [{"uri": NEW}], "delete_nodes": [RATINGS, "rg://bad"]}},
                 422, "InvalidInput", "rg://bad", id="batch-bad-uri-stores-nothing"),
    pytest.param("POST", "/kinds/node", {"json": {"name": "Note Book"}},
                 422, "InvalidInput", "not allowed", id="bad-node-kind-name"),
    pytest.param("POST", "/kinds/edge",
                 {"json": {"name": "explored_in", "flow": "down",
                           "connects": [["dataset", "notebook"]]}},
                 422, "InvalidInput", "unknown node kind 'notebook'", id="edge-kind-unknown-node"),
    pytest.param("POST", "/kinds/edge",
                 {"json": {"name": "x", "flow": "sideways", "connects": [["dataset", "model"]]}},
                 422, "InvalidInput", "flow", id="edge-kind-bad-flow"),
    pytest.param("GET", "/node", {"params": {"uri": "nope"}},
                 422, "InvalidInput", "not a reelgraph URI", id="read-bad-uri"),
    pytest.param("GET", "/node", {"params": {"uri": MISSING}},
                 404, "NotFound", "does not exist", id="read-missing-node"),
    pytest.param("GET", "/lineage", {"params": {"uri": RANKER, "as_of": "yesterday"}},
                 422, "InvalidInput", "not an ISO-8601 time", id="bad-time"),
    pytest.param("GET", "/impact", {"params": {"uri": RANKER, "as_of": "2026-01-01T00:00:00"}},
                 422, "InvalidInput", "no time zone", id="time-without-zone"),
    pytest.param("GET", "/lineage", {"params": {"uri": RANKER, "edge_kind": "nope"}},
                 422, "InvalidInput", "unknown edge kind", id="lineage-unknown-edge-kind"),
    pytest.param("GET", "/lineage", {"params": {"uri": RANKER, "depth": 0}},
                 422, "InvalidInput", "depth 0 is out of range", id="depth-out-of-range"),
    pytest.param("GET", "/lineage", {"params": {"uri": RANKER, "depth": "deep"}},
                 422, "InvalidInput", "query parameter 'depth'", id="depth-not-a-number"),
    pytest.param("GET", "/lineage", {"params": {"uri": RANKER, "direction": "sideways"}},
                 422, "InvalidInput", "query parameter 'direction'", id="bad-direction"),
    pytest.param("GET", "/lineage", {},
                 422, "InvalidInput", "query parameter 'uri'", id="missing-uri"),
    pytest.param("GET", "/search", {"params": {"q": "!!"}},
                 422, "InvalidInput", "no words", id="search-without-words"),
    pytest.param("GET", "/path", {"params": {"from": RANKER, "to": MISSING}},
                 404, "NotFound", MISSING, id="path-to-missing-node"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "error", "words"), CASES)
def test_bad_input_is_refused_and_stores_nothing(
    client: TestClient, seeded: Graph, method: str, path: str, kwargs: dict[str, Any],
    status: int, error: str, words: str,
) -> None:
    before = snapshot(seeded)
    kwargs = dict(kwargs)  # the parameter is shared between back-ends
    headers = {**AUTH, **kwargs.pop("headers", {})}
    r = client.request(method, f"{BASE}{path}", headers=headers, **kwargs)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error
    assert words in body["problem"]
    assert body["fix"]
    assert snapshot(seeded) == before
    # Not only this process's view: a freshly opened graph sees the same stored state.
    reopened = Graph.open(seeded.store.url)
    try:
        assert snapshot(reopened) == before
    finally:
        reopened.close()


def test_unknown_route_and_method_answer_in_the_error_shape(client: TestClient) -> None:
    r = client.get(f"{BASE}/nothing-here")
    assert r.status_code == 404
    assert set(r.json()) == {"error", "problem", "fix"}
    r = client.put(f"{BASE}/batch", headers=AUTH)
    assert r.status_code == 405
    assert r.json()["error"] == "MethodNotAllowed"
