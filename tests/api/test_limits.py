"""The door's limits (issue 16, items 3, 7 and 14): an anonymous write is refused before its
body is read, bodies and URLs have size limits, a saturated server sheds load with 503 and
Retry-After, transient database failures are 503s that never show a password, and the
OpenAPI schema says which operations need the token."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from graph_api_data import AUTH, BASE, TOKEN, MakeClient, seed

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.graph import Graph

NODE = {"uri": "rg://dataset/movielens/ratings", "description": "x"}


def chunks(count: int, size: int, sent: list[int]) -> Iterator[bytes]:
    """A streamed (chunked) JSON body that records how much of it the server pulled."""
    yield b'{"uri": "rg://dataset/a/b", "description": "'
    for _ in range(count):
        sent.append(size)
        yield b"x" * size
    yield b'"}'


def test_an_anonymous_write_is_refused_before_its_body_is_read(client: TestClient) -> None:
    sent: list[int] = []
    r = client.post(f"{BASE}/nodes", content=chunks(1000, 100_000, sent),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["error"] == "Unauthorized"
    assert sum(sent) <= 100_000  # 100 MB offered; at most what the client pushed ahead
    wrong = client.post(f"{BASE}/nodes", content=chunks(1000, 100_000, sent := []),
                        headers={"Content-Type": "application/json",
                                 "Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and sum(sent) <= 100_000


def test_a_declared_or_streamed_body_past_the_limit_is_413(graph: Graph, tmp_path: Path
                                                             ) -> None:
    settings = Settings(home=tmp_path, api_token=TOKEN, max_body_bytes=10_000)
    client = TestClient(create_app(settings, graph))
    big = {**NODE, "description": "x" * 20_000}
    r = client.post(f"{BASE}/nodes", json=big, headers=AUTH)
    assert r.status_code == 413 and "max_body_bytes" in r.json()["fix"]
    streamed = client.post(f"{BASE}/nodes", content=chunks(100, 1000, []),
                           headers={**AUTH, "Content-Type": "application/json"})
    assert streamed.status_code == 413  # no Content-Length: counted as it arrives
    assert client.post(f"{BASE}/nodes", json=NODE, headers=AUTH).status_code == 200
    assert graph.get(NODE["uri"]) is not None and graph.get("rg://dataset/a/b") is None


def test_a_long_url_is_414_and_a_long_search_422(client: TestClient) -> None:
    r = client.get(f"{BASE}/search", params={"q": "ratings " * 5000})
    assert r.status_code == 414 and r.json()["error"] == "UrlTooLong"
    assert client.get(f"{BASE}/search", params={"q": "x" * 600}).status_code == 422


@pytest.mark.parametrize("queue_s", [0.0, 0.05])
def test_past_max_in_flight_the_server_answers_503(graph: Graph, tmp_path: Path, queue_s: float
                                                   ) -> None:
    """Two requests held inside a slow route fill a server with max_in_flight=2; the third
    is refused (at once with no queue, after waiting out a short one), and once they finish
    the server answers again."""
    settings = Settings(home=tmp_path, api_token=TOKEN, max_in_flight=2,
                        max_queue_seconds=queue_s)
    app = create_app(settings, graph)
    release = asyncio.Event()
    entered = asyncio.Semaphore(0)

    @app.get("/test/slow")
    async def slow() -> dict[str, Any]:
        entered.release()
        await release.wait()
        return {"ok": True}

    async def scenario() -> tuple[list[int], httpx.Response, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            held = [asyncio.create_task(http.get("/test/slow")) for _ in range(2)]
            for _ in held:
                await asyncio.wait_for(entered.acquire(), 10)
            refused = await http.get(f"{BASE}/kinds")
            release.set()
            done = [r.status_code for r in await asyncio.gather(*held)]
            again = (await http.get(f"{BASE}/kinds")).status_code
            return done, refused, again

    done, refused, again = asyncio.run(scenario())
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert refused.json()["error"] == "Overloaded"
    assert done == [200, 200] and again == 200


@pytest.mark.postgres
def test_transient_database_failures_are_503_without_the_password(tmp_path: Path,
                                                                   postgres_url: str) -> None:
    """Trust auth takes any password, so the URL carries one; the database is then dropped
    under the running app, as when a server goes away."""
    import psycopg

    secret_url = postgres_url.replace("postgresql://postgres@", "postgresql://postgres:"
                                      "hunter2secret@")
    graph = Graph.open(secret_url)
    try:
        seed(graph)
        client = TestClient(create_app(Settings(home=tmp_path, api_token=TOKEN), graph))
        assert client.get(f"{BASE}/node", params={"uri": NODE["uri"]}).status_code == 200
        graph.store.engine.dispose()  # type: ignore[attr-defined]
        with psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/postgres",
                             autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{postgres_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        for r in (client.get(f"{BASE}/node", params={"uri": NODE["uri"]}),
                  client.post(f"{BASE}/nodes", json=NODE, headers=AUTH)):
            assert r.status_code == 503, r.text
            assert r.headers["Retry-After"] and "hunter2secret" not in r.text
    finally:
        graph.close()


@pytest.mark.parametrize("open_reads", [True, False])
def test_openapi_marks_exactly_what_needs_the_token(make_client: MakeClient,
                                                    open_reads: bool) -> None:
    client = make_client(open_reads=open_reads)
    r = client.get("/openapi.json")  # open on every server: it describes, never shows data
    assert r.status_code == 200
    paths = r.json()["paths"]
    read, write = paths[f"{BASE}/node"]["get"], paths[f"{BASE}/nodes"]["post"]
    assert write["security"] == [{"HTTPBearer": []}] and "401" in write["responses"]
    assert ("security" in read) is not open_reads
    assert ("401" in read["responses"]) is not open_reads
    for operation in (read, write):
        assert {"413", "414", "422", "503"} <= set(operation["responses"])
        assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}
    if not open_reads:
        assert client.get(f"{BASE}/kinds").status_code == 401
