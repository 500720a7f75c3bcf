"""The RecSysOps pages in headless Chromium on a real incident (``ui_seeds.seed_ops``): the
incident list and its filter, the detail with its diagnosis, the roll back and block
actions stored through the API (read back from the registry and the rule table), the
monitors' plots and alerts, and the replay page with its explanations."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import quote

import pytest
from ui_home import TOKEN
from ui_seeds import OpsSeed

from reelgraph.flows import Workspace
from reelgraph.ops import RecSysOps

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def read(server: Any, path: str) -> Any:
    with urllib.request.urlopen(f"{server.url}/api/v1{path}", timeout=30) as answer:
        return json.load(answer)


def test_incidents_list_filters_and_shows_the_diagnosis(
    tab: Any, ops_seed: OpsSeed, screenshot: Any
) -> None:
    page = tab.open("incidents")
    row = page.locator("main tbody tr", has_text=ops_seed.incident)
    assert "open" in row.inner_text() and "critical" in row.inner_text()
    affects = row.locator(f"a[href*='{quote(ops_seed.deployment, safe='')}']")
    assert affects.count() == 2  # the node and its lineage
    screenshot(page, "incidents")
    page.select_option("#status", "resolved")
    page.wait_for_selector("main[data-state=ready] >> text=No resolved incident")
    page.select_option("#status", "open")
    tab.ready()
    row = page.locator("main tbody tr", has_text=ops_seed.incident)
    row.locator(f"a:text-is('{ops_seed.incident}')").click()
    tab.ready()
    assert page.inner_text("#verdict") == "serving"  # half the requests were refused
    assert page.locator("#evidence li").count() >= 1
    candidates = page.inner_text("main section:has(h2:text-is('Verdict'))")
    assert ops_seed.deployment in candidates
    timeline = page.inner_text("main section:has(h2:text-is('Timeline'))")
    assert "opened" in timeline and "diagnosis" in timeline
    assert "error_rate" in page.inner_text("main section:has(h2:has-text('Alerts'))")
    for name in ("Timeline", "Alerts"):  # short words whole, as on the monitors page
        table = page.locator(f"main section:has(h2:has-text('{name}')) table")
        assert table.evaluate(BROKEN_CELLS) == [], name
    screenshot(page, "incident")
    assert tab.errors() == []


def test_roll_back_and_block_from_the_incident_page(
    tab: Any, ops_seed: OpsSeed, server: Any
) -> None:
    page = tab.open(f"incidents?name={ops_seed.incident}")
    assert page.locator("#no-hotfix").count() == 1
    page.click("button:text-is('Diagnose')")
    page.fill("#token-input", TOKEN)
    page.click("#token-dialog button.primary")
    page.wait_for_selector("#outcome >> text=Diagnosed.")
    assert page.inner_text("#verdict") == "serving"
    page.fill("#who", "ana")
    page.click("button:text-is('Roll back')")  # the token is remembered
    page.wait_for_selector(f"text=Rolled back: the model is back at v{ops_seed.production - 1}")
    page.fill("#block-item", "50")
    page.select_option("#block-canvas", "category")
    page.fill("#block-hours", "2")
    page.click("button:text-is('Block item')")
    page.wait_for_selector("text=block 50 on category")
    hotfixes = page.inner_text("main section:has(h2:text-is('Hotfixes applied'))")
    assert "rollback" in hotfixes and "block" in hotfixes
    # Stored: read back through the API and the ops store.
    incident = read(server, f"/ops/incidents/{ops_seed.incident}")
    assert incident["status"] == "mitigated"
    assert [e["kind"] for e in incident["timeline"]].count("diagnosis") == 2
    assert [e["detail"]["action"] for e in incident["timeline"] if e["kind"] == "hotfix"] == [
        "rollback",
        "block",
    ]
    with Workspace.open(server.home.settings()) as ws:
        ops = RecSysOps(ws)
        assert ops.production_version() == ops_seed.production - 1
        rules = [r for r in ops.store.rules() if r.incident == incident["uri"]]
    assert [(r.item, r.canvas, r.action, r.who) for r in rules] == [
        ("50", "category", "block", "ana")
    ]
    assert rules[0].expires_at is not None
    # Resolving walks the review: refused (nothing changed) until every question has an answer.
    page.click("summary:text-is('Resolve with review')")
    page.click("button:text-is('Resolve')")
    page.wait_for_selector("#outcome >> text=the review lacks answers")
    assert read(server, f"/ops/incidents/{ops_seed.incident}")["status"] == "mitigated"
    for answer in page.locator("details textarea").all():
        answer.fill("yes: the error-rate check caught it within one window")
    page.click("button:text-is('Resolve')")
    page.wait_for_selector("#outcome >> text=Resolved")
    assert read(server, f"/ops/incidents/{ops_seed.incident}")["status"] == "resolved"
    assert tab.errors(allow="the server responded with a status of 4") == []  # 404s, the 422


# The texts of a table's header, number and token cells laid out on more than one line.
BROKEN_CELLS = """(table) => [...table.querySelectorAll("th, td.num, td.token")].filter((cell) => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
}).map((cell) => cell.textContent)"""


def test_monitors_plot_each_signal_with_its_alerts(
    tab: Any, ops_seed: OpsSeed, server: Any, screenshot: Any
) -> None:
    page = tab.open("monitors")
    card = page.locator("main section", has_text=ops_seed.monitor)
    assert "ops-team" in card.inner_text() and "learned" in card.inner_text()
    # Each signal's series is the check rows the seed's checks really stored.
    with Workspace.open(server.home.settings()) as ws:
        stored = [r for r in RecSysOps(ws).store.checks(ops_seed.monitor)
                  if r.signal == "error_rate"]
    plot = card.locator("figure[data-signal=error_rate] svg")
    assert int(plot.get_attribute("data-points") or 0) == len(stored) >= 2
    assert int(plot.get_attribute("data-failing") or 0) == sum(not r.passed for r in stored) >= 1
    alerts = card.locator("table").last
    assert "error_rate" in alerts.inner_text()
    # Headers, numbers and short tokens stay on one line (a squeezed column once broke
    # "critical" into "criti / cal"): a cell whose text spans two line boxes is broken.
    assert alerts.evaluate(BROKEN_CELLS) == []
    screenshot(page, "monitors")
    assert tab.errors(allow="404") == []


def test_replay_page_says_identical_and_explains_each_item(
    tab: Any, ops_seed: OpsSeed, screenshot: Any
) -> None:
    page = tab.open("replay")
    page.fill("#request-id", ops_seed.request_id)
    page.click("button:text-is('Replay')")
    page.wait_for_selector("#identical")
    tab.ready()
    assert page.inner_text("#identical").startswith("identical")
    assert "identical" in page.inner_text("td[data-cell^='logged-']")
    assert page.locator("#grid tbody tr").count() == 2
    logged = page.locator("main section:has(h2:text-is('Logged answer')) tbody tr")
    assert logged.count() == 5  # k = 5
    explained = page.locator("#explain tbody tr")
    assert explained.count() == 5  # one row per recommended item
    assert "Shapley" in page.inner_text("#explain thead")
    assert ":" in explained.first.locator("td").last.inner_text()  # "feature: value"
    screenshot(page, "replay")
    page = tab.open("replay?id=no-such-request")
    assert "no logged request" in page.inner_text("main .error")
    assert tab.errors(allow="404") == []
