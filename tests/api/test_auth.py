"""Writes need the server's bearer token; reads need it only when open_reads is off."""

from __future__ import annotations

from graph_api_data import AUTH, BASE, RATINGS, TOKEN, MakeClient, snapshot

from reelgraph.graph import Graph

NODE = {"uri": "rg://dataset/movielens/tags", "owner": "data-eng"}


def test_writes_are_refused_when_no_token_is_configured(make_client: MakeClient,
                                                         graph: Graph) -> None:
    client = make_client(api_token="")
    before = snapshot(graph)
    for headers in ({}, AUTH, {"Authorization": "Bearer "}):
        r = client.post(f"{BASE}/nodes", json=NODE, headers=headers)
        assert r.status_code == 403
        body = r.json()
        assert body["error"] == "WritesDisabled"
        assert "REELGRAPH_API_TOKEN" in body["fix"]
    assert snapshot(graph) == before
    # Reads stay open.
    assert client.get(f"{BASE}/kinds").status_code == 200


def test_missing_wrong_and_right_tokens(make_client: MakeClient, graph: Graph) -> None:
    client = make_client()
    before = snapshot(graph)

    missing = client.post(f"{BASE}/nodes", json=NODE)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert "has none" in missing.json()["problem"]

    wrong = client.post(f"{BASE}/nodes", json=NODE, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "Unauthorized"
    # A token that shares a prefix with the real one is still wrong.
    prefix = client.post(f"{BASE}/nodes", json=NODE,
                         headers={"Authorization": f"Bearer {TOKEN[:-1]}"})
    assert prefix.status_code == 401
    basic = client.post(f"{BASE}/nodes", json=NODE, headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    assert snapshot(graph) == before

    right = client.post(f"{BASE}/nodes", json=NODE, headers=AUTH)
    assert right.status_code == 200, right.text
    assert graph.show(NODE["uri"]).owner == "data-eng"


def test_every_write_endpoint_needs_the_token(make_client: MakeClient) -> None:
    client = make_client()
    calls = [
        ("POST", "/nodes"), ("DELETE", "/nodes"), ("POST", "/edges"), ("DELETE", "/edges"),
        ("POST", "/batch"), ("POST", "/kinds/node"), ("POST", "/kinds/edge"),
    ]
    for method, path in calls:
        r = client.request(method, f"{BASE}{path}")
        assert r.status_code == 401, (method, path, r.text)


def test_open_reads_on_and_off(make_client: MakeClient, graph: Graph) -> None:
    graph.add(RATINGS, owner="data-eng")
    params = {"uri": RATINGS}

    open_client = make_client(open_reads=True)
    assert open_client.get(f"{BASE}/node", params=params).status_code == 200

    closed = make_client(open_reads=False)
    refused = closed.get(f"{BASE}/node", params=params)
    assert refused.status_code == 401
    assert refused.json()["error"] == "Unauthorized"
    assert closed.get(f"{BASE}/search", params={"q": "ratings"}).status_code == 401
    bad = closed.get(f"{BASE}/node", params=params, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    ok = closed.get(f"{BASE}/node", params=params, headers=AUTH)
    assert ok.status_code == 200
    assert ok.json()["node"]["uri"] == RATINGS

    # Closed reads without any configured token: nobody can read, and the body says why.
    sealed = make_client(api_token="", open_reads=False)
    r = sealed.get(f"{BASE}/node", params=params, headers=AUTH)
    assert r.status_code == 403
    assert "REELGRAPH_API_TOKEN" in r.json()["fix"]
