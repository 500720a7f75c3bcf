"""What a reader cannot render is refused at write time, on every write path (issue 16,
items 5 and 8): properties nested past MAX_DEPTH or bigger than MAX_PROPERTY_BYTES, text no
database stores; and a tag filter is data, not a LIKE pattern."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelgraph.api import create_app
from reelgraph.core import InvalidInput, Settings
from reelgraph.graph import EdgeSpec, Graph, NodeKey, NodeSpec
from reelgraph.graph.adapters import import_events
from reelgraph.graph.model import MAX_DEPTH, MAX_PROPERTY_BYTES
from reelgraph.graph.store import NodeFilter

TOKEN = "limits-token-1234"
URI = "rg://dataset/limits/deep"


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 900])
def test_deep_properties_are_refused_by_the_python_api(graph: Graph, depth: int) -> None:
    with pytest.raises(InvalidInput, match="nested more than"):
        graph.add(URI, properties=nested(depth))
    with pytest.raises(InvalidInput, match="nested more than"):
        EdgeSpec(NodeKey.parse(URI), "derived_from", NodeKey.parse(URI), nested(depth))
    graph.add(URI, properties=nested(MAX_DEPTH))  # the limit itself is fine
    assert graph.show(URI).properties == nested(MAX_DEPTH)


def test_big_or_unstorable_properties_are_refused(graph: Graph) -> None:
    for properties, words in (({"x": "y" * MAX_PROPERTY_BYTES}, "bytes as JSON"),
                              ({"x": "\ud800"}, "not plain JSON"),
                              ({"x": "a\x00b"}, "NUL")):
        with pytest.raises(InvalidInput, match=words):
            NodeSpec(NodeKey.parse(URI), properties=properties)
    with pytest.raises(InvalidInput, match="NUL"):
        NodeSpec(NodeKey.parse(URI), description="a\x00b")
    assert graph.get(URI) is None


def test_deep_properties_are_refused_over_http_and_reads_keep_working(graph: Graph,
                                                                      tmp_path: Any) -> None:
    client = TestClient(create_app(Settings(home=tmp_path, api_token=TOKEN), graph))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    graph.add("rg://dataset/limits/neighbour")
    r = client.post("/api/v1/graph/nodes", headers=auth,
                    json={"uri": URI, "properties": nested(300)})
    assert r.status_code == 422 and "nested more than" in r.json()["problem"]
    assert client.get("/api/v1/graph/search", params={"q": "limits"}).status_code == 200
    r = client.post("/api/v1/graph/batch", headers=auth, json={
        "nodes": [{"uri": URI}], "edges": [{"src": URI, "kind": "derived_from",
                                            "dst": "rg://dataset/limits/neighbour",
                                            "properties": nested(300)}]})
    assert r.status_code == 422 and graph.get(URI) is None  # the batch stored nothing


def test_deep_openlineage_facets_are_refused_before_anything_is_logged(graph: Graph) -> None:
    event = {
        "eventType": "COMPLETE", "eventTime": "2024-06-01T03:10:00+00:00",
        "run": {"runId": "5b8f7c1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b"},
        "job": {"namespace": "spark", "name": "deep", "facets": {"x": nested(300)}},
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    }
    with pytest.raises(InvalidInput, match="nested more than"):
        import_events(graph, [json.dumps(event)])
    with pytest.raises(InvalidInput):
        import_events(graph, ["[" * 100_000 + "]" * 100_000])
    assert graph.find(limit=10) == []


def test_a_tag_filter_matches_only_that_tag(graph: Graph) -> None:
    graph.add("rg://dataset/tags/a", tags=["ratings"], description="ratings of films")
    graph.add("rg://dataset/tags/b", tags=["100%_real"], description="ratings too")
    for tag, expected in (("%", []), ("_", []), ("ratings", ["rg://dataset/tags/a"]),
                          ("100%_real", ["rg://dataset/tags/b"])):
        assert [n.uri for n in graph.find(tag=tag)] == expected, tag
        past = graph.search("ratings", as_of="2100-01-01T00:00:00Z", tag=tag)
        assert [h.node.uri for h in past] == expected, tag


def test_as_of_search_filters_in_the_database(graph: Graph) -> None:
    """The past-time search returns what the Python scorer would, from a narrowed set."""
    graph.add("rg://dataset/search/one", description="Ratings of films", tags=["x"])
    graph.add("rg://dataset/search/two", properties={"note": "user RATINGS"})
    graph.add("rg://dataset/search/three", description="clicks")
    later = "2100-01-01T00:00:00Z"
    assert {h.node.uri for h in graph.search("ratings", as_of=later)} == {
        "rg://dataset/search/one", "rg://dataset/search/two"}
    assert [h.node.uri for h in graph.search("ratings films", as_of=later)] == [
        "rg://dataset/search/one"]
    assert [n.uri for n in graph.store.find(NodeFilter(), terms=["clicks"])] == [
        "rg://dataset/search/three"]
