"""Names, a seeded graph and a store snapshot shared by the API tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from reelgraph.graph import Graph

TOKEN = "test-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/api/v1/graph"

RATINGS = "rg://dataset/movielens/ratings"
WATCH = "rg://feature/personalization/watch-time"
CLICKS = "rg://feature/ads/click-rate"
RANKER = "rg://model/personalization/ranker@3"
RANKER_2 = "rg://model/personalization/ranker@2"
CTR = "rg://model/ads/ctr@1"
PROD = "rg://deployment/personalization/ranker-prod"
HOME = "rg://consumer/studio/homepage"

# make_client(api_token=TOKEN, open_reads=True): a client of a fresh app over the test graph.
MakeClient = Callable[..., TestClient]


def seed(graph: Graph) -> None:
    """Two domains' models sharing inputs, one deployment and its consumer."""
    with graph.batch("seed") as b:
        b.add(RATINGS, owner="data-eng", description="user ratings of films", tags=["ratings"])
        b.add(WATCH, owner="ranking-team", tags=["engagement"])
        b.add(CLICKS, domain="ads", owner="ads-team", tags=["engagement"])
        b.add(RANKER_2, owner="ranking-team")
        b.add(RANKER, owner="ranking-team", description="ranks the home page rows")
        b.add(CTR, owner="ads-team", description="predicts clicks on ads")
        b.add(PROD, owner="serving")
        b.add(HOME, owner="studio-web")
        b.link(WATCH, "derived_from", RATINGS)
        b.link(CLICKS, "derived_from", RATINGS)
        b.link(RANKER, "uses_feature", WATCH)
        b.link(RANKER, "trained_on", RATINGS)
        b.link(RANKER, "version_of", RANKER_2)
        b.link(CTR, "uses_feature", WATCH)
        b.link(CTR, "uses_feature", CLICKS)
        b.link(CTR, "trained_on", RATINGS)
        b.link(RANKER, "deployed_as", PROD)
        b.link(PROD, "consumed_by", HOME)


def snapshot(graph: Graph) -> dict[str, Any]:
    """Everything a write could change: live nodes, every revision, live edges, kinds."""
    nodes = graph.find(limit=100_000)
    return {
        "nodes": [n.to_dict() for n in nodes],
        "history": {n.uri: [r.to_dict() for r in graph.history(n.uri)] for n in nodes},
        "edges": sorted(
            (e.src_id, e.kind, e.dst_id, repr(e.properties), e.valid_from)
            for e in graph.store.all_edges()
        ),
        "kinds": graph.store.registry().snapshot(),
    }
