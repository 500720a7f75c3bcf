"""Property-based tests per endpoint family (issue 16, item 9): extreme numbers, empty and
huge strings and odd Unicode never make the API answer 5xx, and what a write accepts every
read can render. Bounded (``max_examples``) so the suite stays fast."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graph_api_data import AUTH, BASE, RANKER, TOKEN, seed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.graph import Graph

BOUNDED = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))
text = st.one_of(st.text(max_size=40),  # odd Unicode, surrogates and NUL included
                 st.sampled_from(["", " ", "%", "_", "\x00", "\ud800", "rg://", "../" * 20,
                                  "x" * 20_000, "ratings", "é" * 300]))
numbers = st.one_of(st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([2**63, -(2**63) - 1, 10**300]))
# What a URL can carry: no lone surrogates (they are not UTF-8, so no client sends them).
url_text = st.one_of(st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
                     st.sampled_from(["", " ", "%", "_", "\x00", "rg://", "../" * 20,
                                      "x" * 2000, "ratings", "é" * 300]))
json_values = st.recursive(st.one_of(st.none(), st.booleans(), numbers, text),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(text, inner, max_size=3)),
                           max_leaves=12)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("properties")
    graph = Graph.open(f"sqlite:///{home / 'graph.db'}")
    seed(graph)
    settings_ = Settings(home=home, api_token=TOKEN, media_roots=(str(home / "media"),))
    try:
        yield TestClient(create_app(settings_, graph))
    finally:
        graph.close()


def post(client: TestClient, path: str, body: Any) -> Any:
    """JSON as a client would send it: lone surrogates escaped (``\\ud800``), not dropped."""
    return client.post(path, content=json.dumps(body),
                       headers={**AUTH, "Content-Type": "application/json"})


def no_crash(response: Any) -> None:
    assert response.status_code < 500 or response.status_code == 503, response.text
    assert set(response.json()) >= ({"error", "problem", "fix"}
                                    if response.status_code >= 400 else set())


@BOUNDED
@given(name=text, description=text, tags=st.lists(text, max_size=3),
       properties=st.dictionaries(text, json_values, max_size=4))
def test_graph_writes_never_crash_and_what_is_stored_reads_back(
        client: TestClient, name: str, description: str, tags: list[str],
        properties: dict[str, Any]) -> None:
    uri = f"rg://dataset/fuzz/{name}"
    r = post(client, f"{BASE}/nodes", {
        "uri": uri, "description": description, "tags": tags, "properties": properties})
    no_crash(r)
    if r.status_code == 200:
        stored = r.json()["node"]["uri"]
        for path, params in (("/node", {"uri": stored}), ("/history", {"uri": stored}),
                             ("/lineage", {"uri": stored}), ("/search", {"q": "fuzz"})):
            read = client.get(f"{BASE}{path}", params=params)
            assert read.status_code == 200, (path, read.text)


@BOUNDED
@given(q=url_text, tag=st.one_of(st.none(), url_text), as_of=st.one_of(st.none(), url_text),
       limit=numbers)
def test_graph_reads_never_crash(client: TestClient, q: str, tag: str | None,
                                 as_of: str | None, limit: Any) -> None:
    params = {"q": q, "limit": limit, **({"tag": tag} if tag is not None else {}),
              **({"as_of": as_of} if as_of is not None else {})}
    no_crash(client.get(f"{BASE}/search", params=params))
    no_crash(client.get(f"{BASE}/node", params={"uri": q, "as_of": as_of or ""}))
    no_crash(client.get(f"{BASE}/lineage", params={"uri": RANKER, "depth": limit}))


@BOUNDED
@given(paths=st.lists(text, min_size=1, max_size=3), namespace=text)
def test_media_registration_never_crashes(client: TestClient, paths: list[str],
                                          namespace: str) -> None:
    r = post(client, "/api/v1/media", {"paths": paths, "namespace": namespace})
    no_crash(r)
    assert r.status_code == 422  # nothing lies under this server's (empty) media root


@BOUNDED
@given(canvas=st.one_of(st.sampled_from(["related", "category", "search", "notifications"]),
                        text),
       user=st.one_of(st.none(), text, numbers, st.booleans()),
       item=st.one_of(st.none(), text, numbers, st.booleans()),
       time=st.one_of(numbers, st.floats(), text), k=numbers)
def test_recommend_never_crashes(client: TestClient, canvas: str, user: Any, item: Any,
                                 time: Any, k: Any) -> None:
    body = {"canvas": canvas, "user": user, "item": item, "k": k, "context": {"time": time}}
    r = post(client, "/api/v1/recommend", body)
    no_crash(r)
    assert r.status_code in (422, 503)  # invalid, or valid with no model deployed
