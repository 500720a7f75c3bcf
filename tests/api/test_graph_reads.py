"""Every read endpoint over a seeded graph, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from graph_api_data import (
    AUTH,
    BASE,
    CLICKS,
    CTR,
    HOME,
    PROD,
    RANKER,
    RANKER_2,
    RATINGS,
    WATCH,
)

from reelgraph.graph import Graph


def _iso(us: int) -> str:
    """An exact ISO time for a stored microsecond timestamp."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
    return moment.isoformat().replace("+00:00", "Z")


def test_node_with_edges_by_query_and_by_path(client: TestClient, seeded: Graph) -> None:
    r = client.get(f"{BASE}/node", params={"uri": RANKER})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["node"]["uri"] == RANKER
    assert body["node"]["version"] == "3"
    assert body["node"]["owner"] == "ranking-team"
    edges = {(e["direction"], e["kind"], e["node"]) for e in body["edges"]}
    assert edges == {
        ("out", "uses_feature", WATCH),
        ("out", "trained_on", RATINGS),
        ("out", "version_of", RANKER_2),
        ("out", "deployed_as", PROD),
    }
    for path in (RANKER, RANKER.removeprefix("rg://"), RANKER.replace("rg://", "rg:/")):
        by_path = client.get(f"{BASE}/nodes/{path}")
        assert by_path.status_code == 200, (path, by_path.text)
        assert by_path.json() == body


def test_node_as_of_a_past_time(client: TestClient, seeded: Graph) -> None:
    first = seeded.show(RATINGS)
    r = client.post(f"{BASE}/nodes", headers=AUTH,
                    json={"uri": RATINGS, "owner": "platform-data"})
    assert r.status_code == 200, r.text
    second = seeded.show(RATINGS)
    assert second.revision == first.revision + 1

    between = _iso((first.valid_from + second.valid_from) // 2)
    old = client.get(f"{BASE}/node", params={"uri": RATINGS, "as_of": between}).json()
    assert old["node"]["owner"] == "data-eng"
    assert old["node"]["revision"] == first.revision
    now = client.get(f"{BASE}/node", params={"uri": RATINGS}).json()
    assert now["node"]["owner"] == "platform-data"

    # A "+00:00" zone sent unencoded arrives as a space and is still understood.
    plus = between.replace("Z", "+00:00")
    raw = client.get(f"{BASE}/node?uri={RATINGS}&as_of={plus}")
    assert raw.status_code == 200, raw.text
    assert raw.json()["node"]["owner"] == "data-eng"

    before_it_existed = _iso(first.valid_from - 1_000_000)
    gone = client.get(f"{BASE}/node", params={"uri": RATINGS, "as_of": before_it_existed})
    assert gone.status_code == 404
    assert gone.json()["error"] == "NotFound"


def test_history_lists_revisions_and_tombstone(client: TestClient, seeded: Graph) -> None:
    client.post(f"{BASE}/nodes", headers=AUTH, json={"uri": HOME, "owner": "web"})
    client.delete(f"{BASE}/nodes", params={"uri": HOME}, headers=AUTH)
    r = client.get(f"{BASE}/history", params={"uri": HOME})
    assert r.status_code == 200, r.text
    revisions = r.json()["revisions"]
    assert [(v["revision"], v["owner"], v["deleted"]) for v in revisions] == [
        (1, "studio-web", False), (2, "web", False), (3, "web", True)
    ]
    assert client.get(f"{BASE}/history", params={"uri": "rg://model/x/none"}).status_code == 404


def test_search_with_filters(client: TestClient, seeded: Graph) -> None:
    hits = client.get(f"{BASE}/search", params={"q": "engagement"}).json()["hits"]
    assert {h["node"]["uri"] for h in hits} == {WATCH, CLICKS}
    assert all(h["score"] > 0 for h in hits)

    ads = client.get(f"{BASE}/search", params={"q": "engagement", "domain": "ads"}).json()
    assert [h["node"]["uri"] for h in ads["hits"]] == [CLICKS]
    owner = client.get(f"{BASE}/search", params={"q": "engagement", "owner": "ranking-team"})
    assert [h["node"]["uri"] for h in owner.json()["hits"]] == [WATCH]
    kind = client.get(f"{BASE}/search", params={"q": "ratings", "kind": "dataset"}).json()
    assert [h["node"]["uri"] for h in kind["hits"]] == [RATINGS]
    tag = client.get(f"{BASE}/search", params={"q": "ratings", "tag": "ratings"}).json()
    assert [h["node"]["uri"] for h in tag["hits"]] == [RATINGS]
    one = client.get(f"{BASE}/search", params={"q": "engagement", "limit": 1}).json()
    assert len(one["hits"]) == 1


def test_lineage_up_and_down_with_depth_and_edge_kinds(client: TestClient, seeded: Graph
                                                       ) -> None:
    up = client.get(f"{BASE}/lineage", params={"uri": RANKER}).json()
    assert up["root"] == RANKER
    assert {n["uri"]: n["depth"] for n in up["nodes"]} == {
        RANKER: 0, WATCH: 1, RATINGS: 1, RANKER_2: 1
    }
    assert {"src": RANKER, "kind": "uses_feature", "dst": WATCH, "properties": {}} in up["edges"]

    only_features = client.get(
        f"{BASE}/lineage", params={"uri": RANKER, "edge_kind": ["uses_feature", "derived_from"]}
    ).json()
    assert {n["uri"] for n in only_features["nodes"]} == {RANKER, WATCH, RATINGS}
    assert {n["uri"]: n["depth"] for n in only_features["nodes"]}[RATINGS] == 2

    shallow = client.get(f"{BASE}/lineage", params={"uri": CTR, "depth": 1}).json()
    assert {n["uri"] for n in shallow["nodes"]} == {CTR, WATCH, CLICKS, RATINGS}

    down = client.get(f"{BASE}/lineage", params={"uri": RATINGS, "direction": "downstream"})
    assert {n["uri"] for n in down.json()["nodes"]} == {
        RATINGS, WATCH, CLICKS, RANKER, CTR, PROD, HOME
    }


def test_impact_lists_affected_deployments_and_consumers(client: TestClient, seeded: Graph
                                                         ) -> None:
    r = client.get(f"{BASE}/impact", params={"uri": WATCH})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["root"] == WATCH
    assert [n["uri"] for n in body["affected"]["deployment"]] == [PROD]
    assert [n["uri"] for n in body["affected"]["consumer"]] == [HOME]
    assert body["affected"]["experiment"] == []
    assert {n["uri"] for n in body["subgraph"]["nodes"]} >= {WATCH, RANKER, CTR, PROD, HOME}


def test_path_between_nodes(client: TestClient, seeded: Graph) -> None:
    r = client.get(f"{BASE}/path", params={"from": HOME, "to": WATCH}).json()
    assert r["found"] is True
    uris = [s["node"]["uri"] for s in r["steps"]]
    assert uris == [HOME, PROD, RANKER, WATCH]
    assert r["steps"][0]["via"] is None
    assert r["steps"][1]["via"] == {"src": PROD, "kind": "consumed_by", "dst": HOME,
                                    "properties": {}}
    seeded.add("rg://dataset/other/alone")
    none = client.get(f"{BASE}/path", params={"from": HOME, "to": "rg://dataset/other/alone"})
    assert none.json() == {"found": False, "steps": []}


def test_export_json_and_dot(client: TestClient, seeded: Graph) -> None:
    as_json = client.get(f"{BASE}/export", params={"uri": RANKER, "depth": 2})
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    lineage = client.get(f"{BASE}/lineage", params={"uri": RANKER, "depth": 2}).json()
    # the export is the graph's own JSON format: the same, less the API's ISO-8601 twins
    # and the open incidents on the path (RecSysOps adds them to lineage answers)
    assert lineage.pop("incidents") == []
    for node in lineage["nodes"]:
        for name in [k for k in node if k.endswith("_iso")]:
            del node[name]
    assert as_json.json() == lineage

    dot = client.get(f"{BASE}/export", params={"uri": RANKER, "format": "dot"})
    assert dot.status_code == 200
    assert dot.headers["content-type"].startswith("text/vnd.graphviz")
    assert dot.text.startswith("digraph")
    assert f'"{RANKER}" -> "{WATCH}" [label="uses_feature"]' in dot.text

    bad = client.get(f"{BASE}/export", params={"uri": RANKER, "format": "png"})
    assert bad.status_code == 422
    assert "format" in bad.json()["problem"]


def test_similar_models_and_reuse_candidates(client: TestClient, seeded: Graph) -> None:
    similar = client.get(f"{BASE}/similar", params={"uri": RANKER})
    assert similar.status_code == 200, similar.text
    found = similar.json()["similar"]
    assert [s["model"] for s in found] == [CTR]
    assert 0 < found[0]["score"] <= 1
    assert WATCH in found[0]["shared"]

    reuse = client.get(f"{BASE}/reuse", params={"uri": RANKER}).json()
    assert [(c["input"], c["used_by"]) for c in reuse["candidates"]] == [(CLICKS, CTR)]

    not_a_model = client.get(f"{BASE}/similar", params={"uri": RATINGS})
    assert not_a_model.status_code == 422
    assert "not a model" in not_a_model.json()["problem"]


def test_kinds_snapshot(client: TestClient, seeded: Graph) -> None:
    body = client.get(f"{BASE}/kinds").json()
    assert {"dataset", "model", "deployment"} <= {k["name"] for k in body["node_kinds"]}
    version_of = next(k for k in body["edge_kinds"] if k["name"] == "version_of")
    assert version_of["acyclic"] is True
    assert version_of["flow"] == "up"


def test_times_come_as_microseconds_and_iso_8601(client: TestClient, seeded: Graph) -> None:
    from reelgraph.core.clock import parse_time, to_us

    node = client.get(f"{BASE}/node", params={"uri": RANKER}).json()["node"]
    assert node["valid_from_iso"].endswith("Z")
    assert to_us(parse_time(node["valid_from_iso"])) == node["valid_from"]
    assert node["valid_to"] is None and node["valid_to_iso"] is None
