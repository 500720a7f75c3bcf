"""``reelgraph serve``'s application: the UI at ``/`` and its assets under ``/ui``, the API
untouched beside it (its unknown routes still answer in its JSON error shape)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.graph import Graph
from reelgraph.ui import STATIC, mount


def client(tmp_path: Path) -> tuple[TestClient, Graph]:
    graph = Graph.open(f"sqlite:///{tmp_path / 'graph.db'}")
    return TestClient(mount(create_app(Settings(home=tmp_path), graph))), graph


def test_page_assets_and_api_side_by_side(tmp_path: Path) -> None:
    http, graph = client(tmp_path)
    try:
        page = http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert page.headers["cache-control"] == "no-cache"
        # Every asset the page names is served, modules with a JavaScript type.
        for path in re.findall(r'(?:href|src)="(/ui/[^"]+)"', page.text):
            asset = http.get(path)
            assert asset.status_code == 200, path
            if path.endswith(".js"):
                assert "javascript" in asset.headers["content-type"], path
        assert http.get("/ui/vendor/cytoscape.esm.min.js").status_code == 200
        assert http.get("/api/v1/graph/kinds").json()["node_kinds"]
        missing = http.get("/api/v1/no-such-route")
        assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
        assert "/" not in http.get("/openapi.json").json()["paths"]  # the page is not API
    finally:
        http.close()
        graph.close()


def test_every_page_module_is_registered_and_shipped() -> None:
    registry = (STATIC / "pages" / "registry.js").read_text()
    listed = set(re.findall(r'import\("\./([a-z_]+)\.js"\)', registry))
    shipped = {p.stem for p in (STATIC / "pages").glob("*.js")} - {"registry"}
    assert listed == shipped
    for name in ("cytoscape", "dagre", "cytoscape-dagre", "lodash", "graphlib"):
        assert (STATIC / "vendor" / f"LICENSE.{name}").is_file()  # licences ship with them
