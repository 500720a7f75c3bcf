"""Optimistic concurrency over HTTP: ETag / If-Match on node writes (409 on a stale
revision) and PATCH of chosen fields, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from graph_api_data import AUTH, BASE, RATINGS

from reelgraph.graph import Graph


def test_a_write_with_a_stale_if_match_is_refused_with_409(client: TestClient, graph: Graph
                                                          ) -> None:
    graph.add(RATINGS, properties={"rows": 1})
    read = client.get(f"{BASE}/node", params={"uri": RATINGS})
    assert read.headers["ETag"] == '"1"'
    body = {"uri": RATINGS, "properties": {"rows": 2}}
    first = client.post(f"{BASE}/nodes", json=body, headers={**AUTH, "If-Match": '"1"'})
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] == '"2"'
    stale = client.post(f"{BASE}/nodes", json={**body, "properties": {"rows": 3}},
                        headers={**AUTH, "If-Match": '"1"'})
    assert stale.status_code == 409, stale.text
    assert stale.json()["error"] == "RevisionConflict"
    assert "revision 2" in stale.json()["problem"]
    assert graph.show(RATINGS).properties == {"rows": 2}  # the stale write stored nothing
    new = client.post(f"{BASE}/nodes", json={"uri": RATINGS + "_v2"},
                      headers={**AUTH, "If-Match": '"0"'})
    assert new.status_code == 200, new.text
    bad = client.post(f"{BASE}/nodes", json=body, headers={**AUTH, "If-Match": "yesterday"})
    assert bad.status_code == 422 and "If-Match" in bad.json()["problem"]
    gone = client.delete(f"{BASE}/nodes", params={"uri": RATINGS},
                         headers={**AUTH, "If-Match": '"1"'})
    assert gone.status_code == 409
    assert graph.get(RATINGS) is not None


def test_patch_changes_only_the_given_fields(client: TestClient, graph: Graph) -> None:
    graph.add(RATINGS, owner="data-eng", description="ratings",
              properties={"rows": 1, "draft": True})
    # Two clients read revision 1 and each changes a different thing: both changes stay.
    owner = client.patch(f"{BASE}/nodes", json={"uri": RATINGS, "owner": "ml-platform"},
                         headers=AUTH)
    assert owner.status_code == 200, owner.text
    rows = client.patch(f"{BASE}/nodes", json={"uri": RATINGS, "properties": {"rows": 5},
                                               "unset": ["draft"]}, headers=AUTH)
    assert rows.status_code == 200, rows.text
    node = graph.show(RATINGS)
    assert (node.owner, node.description, node.properties, node.revision) == (
        "ml-platform", "ratings", {"rows": 5}, 3)
    stale = client.patch(f"{BASE}/nodes", json={"uri": RATINGS, "description": "x",
                                                "expected_revision": 1}, headers=AUTH)
    assert stale.status_code == 409, stale.text
    missing = client.patch(f"{BASE}/nodes", json={"uri": RATINGS + "_nope", "owner": "x"},
                           headers=AUTH)
    assert missing.status_code == 404
    assert client.patch(f"{BASE}/nodes", json={"uri": RATINGS, "owner": "x"}).status_code == 401
