"""The application: its front door, OpenAPI, opening the graph from settings, and uvicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from graph_api_data import AUTH, BASE, RATINGS, TOKEN

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.graph import Graph

GRAPH_PATHS = {
    "/node", "/nodes/{uri}", "/nodes", "/history", "/search", "/lineage", "/impact", "/path",
    "/export", "/similar", "/reuse", "/kinds", "/edges", "/batch", "/kinds/node", "/kinds/edge",
}


def test_openapi_lists_the_graph_paths_with_bearer_auth(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {f"{BASE}{p}" for p in GRAPH_PATHS} <= paths
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    post_nodes = spec["paths"][f"{BASE}/nodes"]["post"]
    assert post_nodes["security"] == [{"HTTPBearer": []}]
    body_ref = post_nodes["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    node_in = spec["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]
    assert node_in["examples"][0]["uri"].startswith("rg://")
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_create_app_opens_the_graph_from_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, api_token=TOKEN)
    with TestClient(create_app(settings)) as client:
        r = client.post(f"{BASE}/nodes", json={"uri": RATINGS}, headers=AUTH)
        assert r.status_code == 200, r.text
    # The write landed in the settings' database, which another reader can open.
    graph = Graph.open(settings.metadata_url)
    try:
        assert graph.show(RATINGS).revision == 1
    finally:
        graph.close()
    assert (tmp_path / "reelgraph.db").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.slow  # separate processes, each importing the stack
def test_uvicorn_serves_the_factory_with_settings_from_the_environment(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "REELGRAPH_HOME": str(tmp_path), "REELGRAPH_API_TOKEN": TOKEN,
           "REELGRAPH_OPEN_READS": "false"}
    env.pop("REELGRAPH_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "reelgraph.api:create_app",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}{BASE}"
    try:
        deadline = time.monotonic() + 60  # a start-up wait, not a speed check
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    out = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"uvicorn did not start: {out}")
                time.sleep(0.2)
        assert httpx.post(f"{url}/nodes", json={"uri": RATINGS}, headers=AUTH).status_code == 200
        # REELGRAPH_OPEN_READS=false reached the app: reads need the token.
        assert httpx.get(f"{url}/node", params={"uri": RATINGS}).status_code == 401
        r = httpx.get(f"{url}/node", params={"uri": RATINGS}, headers=AUTH)
        assert r.json()["node"]["uri"] == RATINGS
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout:
            server.stdout.close()
