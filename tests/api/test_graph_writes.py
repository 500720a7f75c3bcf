"""Write endpoints store what they say, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from graph_api_data import AUTH, BASE, CTR, PROD, RANKER, RATINGS, WATCH

from reelgraph.graph import Graph


def test_post_node_creates_then_revises_then_is_idempotent(client: TestClient, graph: Graph
                                                            ) -> None:
    body = {"uri": RATINGS, "owner": "data-eng", "tags": ["ratings", "movielens"],
            "properties": {"rows": 100836}}
    first = client.post(f"{BASE}/nodes", json=body, headers=AUTH)
    assert first.status_code == 200, first.text
    assert first.json()["node"]["revision"] == 1
    assert first.json()["node"]["tags"] == ["movielens", "ratings"]
    assert first.json()["result"]["nodes_written"] == 1

    same = client.post(f"{BASE}/nodes", json=body, headers=AUTH).json()
    assert same["result"] == {**same["result"], "nodes_written": 0, "nodes_unchanged": 1}
    assert same["node"]["revision"] == 1

    changed = client.post(f"{BASE}/nodes", json={**body, "description": "ratings, 0.5-5"},
                          headers=AUTH, params={"author": "alice"}).json()
    assert changed["node"]["revision"] == 2
    stored = graph.show(RATINGS)
    assert (stored.description, stored.properties, stored.domain) == (
        "ratings, 0.5-5", {"rows": 100836}, "movielens"
    )


def test_post_and_delete_edge(client: TestClient, graph: Graph) -> None:
    graph.add(RATINGS)
    graph.add(RANKER)
    edge = {"src": RANKER, "kind": "trained_on", "dst": RATINGS, "properties": {"split": "train"}}
    r = client.post(f"{BASE}/edges", json=edge, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["edges_written"] == 1
    [(direction, stored, other)] = graph.edges(RANKER)
    assert (direction, stored.kind, other.uri, stored.properties) == (
        "out", "trained_on", RATINGS, {"split": "train"}
    )
    again = client.post(f"{BASE}/edges", json=edge, headers=AUTH).json()
    assert again["edges_unchanged"] == 1

    gone = client.delete(f"{BASE}/edges", headers=AUTH,
                         params={"src": RANKER, "kind": "trained_on", "dst": RATINGS})
    assert gone.status_code == 200, gone.text
    assert gone.json()["edges_deleted"] == 1
    assert graph.edges(RANKER) == []


def test_delete_node_leaves_a_tombstone_and_closes_edges(client: TestClient, seeded: Graph
                                                         ) -> None:
    r = client.delete(f"{BASE}/nodes", params={"uri": PROD}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["nodes_deleted"] == 1
    assert r.json()["edges_deleted"] == 2  # deployed_as and consumed_by
    assert seeded.get(PROD) is None
    assert client.get(f"{BASE}/node", params={"uri": PROD}).status_code == 404
    assert seeded.history(PROD)[-1].deleted


def test_batch_applies_nodes_edges_and_deletes_together(client: TestClient, seeded: Graph
                                                        ) -> None:
    feature = "rg://feature/ads/dwell-time"
    body = {
        "nodes": [{"uri": feature, "owner": "ads-team", "description": "seconds on page"}],
        "edges": [{"src": CTR, "kind": "uses_feature", "dst": feature},
                  {"src": feature, "kind": "derived_from", "dst": RATINGS}],
        "delete_nodes": [PROD],
        "delete_edges": [{"src": CTR, "kind": "uses_feature", "dst": WATCH}],
    }
    r = client.post(f"{BASE}/batch", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["nodes_written"], result["nodes_deleted"], result["edges_written"]) == (1, 1, 2)
    uses = {other.uri for _, e, other in seeded.edges(CTR) if e.kind == "uses_feature"}
    assert feature in uses
    assert WATCH not in uses
    assert seeded.get(PROD) is None


def test_register_node_and_edge_kinds(client: TestClient, graph: Graph) -> None:
    r = client.post(f"{BASE}/kinds/node", headers=AUTH,
                    json={"name": "notebook", "description": "a Jupyter notebook"})
    assert r.status_code == 200, r.text
    assert "notebook" in {k["name"] for k in r.json()["node_kinds"]}

    kind = {"name": "explored_in", "flow": "down", "connects": [["dataset", "notebook"]]}
    r = client.post(f"{BASE}/kinds/edge", json=kind, headers=AUTH)
    assert r.status_code == 200, r.text
    explored = next(k for k in r.json()["edge_kinds"] if k["name"] == "explored_in")
    assert explored["connects"] == [["dataset", "notebook"]]

    # The new kinds are usable at once, and stored: a freshly opened graph knows them.
    batch = {"nodes": [{"uri": RATINGS}, {"uri": "rg://notebook/studio/eda"}],
             "edges": [{"src": RATINGS, "kind": "explored_in", "dst": "rg://notebook/studio/eda"}]}
    assert client.post(f"{BASE}/batch", json=batch, headers=AUTH).status_code == 200
    reopened = Graph.open(graph.store.url)
    try:
        assert "explored_in" in reopened.store.registry().edge_kinds
    finally:
        reopened.close()
