"""``/docs`` and ``/redoc`` need no network: every script, stylesheet and icon they reference
is served by the app itself (the browser tests load them with the network off)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_assets(client: TestClient, page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200
    referenced = [url for url in ASSET.findall(html.text) if not url.startswith("#")]
    assert any(url.endswith(".js") for url in referenced)
    for url in referenced:
        assert url.startswith("/"), f"{page} loads {url} from another host"
        served = client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 0, url
    assert "/openapi.json" in html.text  # and what they render comes from this app too
