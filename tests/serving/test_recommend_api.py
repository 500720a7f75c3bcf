"""``POST /api/v1/recommend`` over a real registry: every canvas, and every error path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from serving_samples import register

from reelgraph.api import create_app
from reelgraph.api.schemas.recommend import RecommendOut
from reelgraph.flows import Workspace
from reelgraph.recsys import MODEL, UnifiedRecommender
from reelgraph.serving import ServingConfig

URL = "/api/v1/recommend"


@pytest.fixture
def client(workspace: Workspace, tmp_path: Path) -> Iterator[TestClient]:
    config = ServingConfig(online_store=f"sqlite:///{tmp_path / 'online.db'}")
    with TestClient(create_app(workspace.settings, workspace.graph, serving=config)) as client:
        yield client


@pytest.fixture
def deployed(client: TestClient, workspace: Workspace, tmp_path: Path,
             recommenders: tuple[UnifiedRecommender, UnifiedRecommender]
             ) -> UnifiedRecommender:
    register(workspace, recommenders[0], tmp_path / "bundles")
    return recommenders[0]


def test_no_model_is_a_503_naming_the_fix(client: TestClient) -> None:
    answer = client.post(URL, json={"canvas": "related", "item": "1"})
    assert answer.status_code == 503
    assert answer.json()["error"] == "Unavailable"
    assert "recsys train" in answer.json()["fix"]


def test_every_canvas_answers_through_one_endpoint(client: TestClient,
                                                   deployed: UnifiedRecommender) -> None:
    user = deployed.vocabulary.user_ids[int(deployed.known_users.argmax())]
    item = deployed.vocabulary.item_ids[0]
    bodies: list[dict[str, Any]] = [
        {"canvas": "related", "item": item, "k": 4},
        {"canvas": "search", "query": "termnator", "user": user, "k": 4},
        {"canvas": "category", "user": user, "category": "Comedy", "k": 4},
        {"canvas": "notifications", "user": int(user), "k": 4},
    ]
    for body in bodies:
        answer = client.post(URL, json=body)
        assert answer.status_code == 200, answer.json()
        found = answer.json()
        RecommendOut.model_validate(found)  # what /docs promises is what is sent
        assert found["canvas"] == body["canvas"]
        assert found["model_version"] == f"{MODEL}@1"
        assert len(found["items"]) == 4 and not found["cold_start"]
        scores = [i["score"] for i in found["items"]]
        assert scores == sorted(scores, reverse=True)
        expected = deployed.recommend(body["canvas"], **{k: v for k, v in body.items()
                                                         if k != "canvas"})
        assert [i["item"] for i in found["items"]] == [i for i, _ in expected.items]
    related = client.post(URL, json=bodies[0]).json()
    assert item not in [i["item"] for i in related["items"]]
    status = client.get(URL + "/deployment").json()
    assert status["version"] == 1 and status["environments"]["category"] == "nearline"


def test_a_new_user_gets_a_flagged_cold_start_answer(client: TestClient,
                                                     deployed: UnifiedRecommender) -> None:
    answer = client.post(URL, json={"canvas": "notifications", "user": "brand-new", "k": 3})
    assert answer.status_code == 200
    assert answer.json()["cold_start"] is True and len(answer.json()["items"]) == 3


@pytest.mark.parametrize(("body", "status", "named"), [
    ({"canvas": "homepage", "user": "1"}, 422, "unknown canvas 'homepage'"),
    ({"canvas": "category", "user": "1"}, 422, "needs a category"),
    ({"canvas": "related"}, 422, "needs a item"),
    ({"canvas": "search", "query": "   "}, 422, "the query is empty"),
    ({"canvas": "search", "query": "alien", "k": 0}, 422, "k=0 is out of range"),
    ({"canvas": "search", "query": "alien", "k": 101}, 422, "k=101 is out of range"),
    ({"canvas": "category", "user": "1", "category": "Cartoons"}, 422,
     "unknown category 'Cartoons'"),
    ({"canvas": "notifications", "user": "1", "context": {"mood": "happy"}}, 422,
     "unknown context key(s) mood"),
    ({"canvas": "related", "item": "no-such-item"}, 404, "not in the model's catalog"),
    ({"canvas": "related", "item": "1", "colour": "red"}, 422, "colour"),
    ({"item": "1"}, 422, "canvas"),
])
def test_bad_requests_are_4xx_naming_the_problem(client: TestClient,
                                                 deployed: UnifiedRecommender,
                                                 body: dict[str, Any], status: int,
                                                 named: str) -> None:
    answer = client.post(URL, json=body)
    assert answer.status_code == status
    error = answer.json()
    assert named in error["problem"] and error["fix"]


def test_openapi_documents_the_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"][URL]["post"]
    assert {"404", "422", "503"} <= set(operation["responses"])


def test_a_posted_interaction_shows_in_the_next_answer(
        workspace: Workspace, tmp_path: Path, deployed: UnifiedRecommender) -> None:
    token = "s" * 32  # logging interactions is a write: it needs the server's token
    settings = replace(workspace.settings, api_token=token)
    config = ServingConfig(online_store=f"sqlite:///{tmp_path / 'fresh-online.db'}")
    with TestClient(create_app(settings, workspace.graph, serving=config),
                    headers={"Authorization": f"Bearer {token}"}) as client:
        _interaction_then_answer(client, deployed)
    with TestClient(create_app(settings, workspace.graph, serving=config)) as anonymous:
        refused = anonymous.post("/api/v1/interactions", json={"user": "1", "item": "1"})
        assert refused.status_code == 401


def _interaction_then_answer(client: TestClient, deployed: UnifiedRecommender) -> None:
    user = deployed.vocabulary.user_ids[int(deployed.known_users.argmax())]
    body = {"canvas": "notifications", "user": user, "k": 10}
    before = client.post(URL, json=body).json()
    watched = before["items"][0]["item"]
    logged = client.post("/api/v1/interactions",
                         json={"user": user, "item": watched, "time": deployed.now + 60})
    assert logged.status_code == 201 and logged.json()["item"] == watched
    after = client.post(URL, json=body).json()
    assert watched not in [i["item"] for i in after["items"]]
    expected = deployed.recommend("notifications", user=user, k=10,
                                  recent=[(watched, deployed.now + 60)])
    assert [i["item"] for i in after["items"]] == [i for i, _ in expected.items]
    # The member's nearline answers were invalidated and are recomputed with the event:
    # once recomputed they are served from the store, and reflect it.
    client.app.state.reelgraph.recommender.settle()  # type: ignore[attr-defined]
    again = client.post(URL, json=body).json()
    assert again["environment"] == "nearline"
    assert [i["item"] for i in again["items"]] == [i for i, _ in expected.items]
    bad = client.post("/api/v1/interactions", json={"user": user, "item": "1", "time": -1})
    assert bad.status_code == 422 and "unix seconds" in bad.json()["fix"]


def test_titles_name_the_items_of_an_answer(client: TestClient,
                                            deployed: UnifiedRecommender) -> None:
    vocabulary = deployed.vocabulary
    found = client.get("/api/v1/recommend/titles",
                       params={"item": [vocabulary.item_ids[0], "no-such-item"]})
    assert found.status_code == 200, found.json()
    assert found.json() == {"model_version": f"{MODEL}@1", "titles": {
        vocabulary.item_ids[0]: vocabulary.titles[0], "no-such-item": None}}


def test_titles_without_a_model_say_so(client: TestClient) -> None:
    assert client.get("/api/v1/recommend/titles", params={"item": "1"}).status_code == 503


@pytest.mark.parametrize("canvas", ["related", "category", "search", "notifications"])
def test_times_past_int64_and_loose_types_are_422(client: TestClient,
                                                  deployed: UnifiedRecommender,
                                                  canvas: str) -> None:
    """Issue 16, item 9: 1e300, NaN, Infinity and 20-digit times answered 500 (an int64
    overflow), and `"item": true` was read as item 1."""
    fields = json.dumps({"canvas": canvas, "user": "1", "item": "1", "category": "Comedy",
                         "query": "alien"})[:-1]
    for time in ("1e300", "NaN", "Infinity", "-Infinity", "99999999999999999999", "-1"):
        answer = client.post(URL, content=fields + ', "context": {"time": ' + time + "}}",
                             headers={"Content-Type": "application/json"})
        assert answer.status_code == 422, (time, answer.text)
        assert "time" in answer.json()["problem"]
    loose = client.post(URL, json={"canvas": canvas, "item": True, "user": True})
    assert loose.status_code == 422 and "item" in loose.json()["problem"]
