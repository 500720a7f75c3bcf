"""The web UI in headless Chromium against ``reelgraph serve`` on a demo-like home: every
page renders without console errors, navigation works, the ranker's lineage is drawn, a
promotion made in the page changes the registry, and bad input reads as an error."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from ui_home import TOKEN, page_routes

from reelgraph.demo import catalog
from reelgraph.flows import Workspace
from reelgraph.flows.registry import ModelRegistry

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RANKER = catalog.RANKER_V2


def q(uri: str) -> str:
    return quote(uri, safe="")


def pages(home: Any) -> dict[str, str]:
    """Every page, by the name its screenshot gets."""
    return {**page_routes(home),
            "impact": f"lineage?uri={q(catalog.RATINGS)}&direction=downstream&depth=3"}


def test_every_page_renders_without_console_errors(tab: Any, server: Any, screenshot: Any
                                                  ) -> None:
    for name, route in pages(server.home).items():
        page = tab.open(route)
        assert page.locator("main .error").count() == 0, (name, page.inner_text("main"))
        assert page.locator("main h1").count() >= 1, name
        screenshot(page, name)
    # A run's page, reached from the list (the media pipeline's: other tests add newer
    # one-step runs).
    tab.open("runs")
    tab.page.locator("main tbody tr", has_text="/media-ingest").first.locator("a").first.click()
    tab.ready()
    assert "Run " in tab.page.inner_text("main h1")
    assert tab.page.locator(".step").count() >= 2
    screenshot(tab.page, "run")
    assert tab.errors() == []


def test_recommendations_answer_with_titles(tab: Any, screenshot: Any) -> None:
    page = tab.open("recommend")
    page.select_option("#canvas", "related")
    page.fill("#in-item", "1")
    page.get_by_role("button", name="Recommend", exact=True).click()
    answer = page.locator("#answer table").last
    answer.wait_for()
    assert answer.locator("tbody tr").count() == 10
    assert "(19" in answer.inner_text() or "(20" in answer.inner_text()  # "Title (1995)"
    assert "latency" in page.inner_text("#answer")
    screenshot(page, "recommend")
    assert tab.errors() == []


def test_search_then_node_then_lineage(tab: Any) -> None:
    page = tab.open("search")
    page.fill("#q", "second ranker tag embedding")
    hit = page.locator(".hit-uri a", has_text=RANKER)
    hit.focus()  # by keyboard: the results are links
    page.keyboard.press("Enter")
    page.wait_for_selector(f"main h1:has-text('{RANKER}')")  # the hash changes after the key
    tab.ready()
    assert catalog.RATINGS in page.inner_text("main")  # its trained_on edge
    # The drift monitor watches the ranker's deployment, downstream of it.
    assert "rg://monitor/personalization/homepage-ranker-drift" in page.inner_text("main")
    page.click("text=Lineage (upstream)")
    tab.ready()
    page.wait_for_function("window.reelgraph && window.reelgraph.cy")  # the graph drawn
    nodes = page.evaluate("window.reelgraph.cy.nodes().map(n => n.id())")
    assert RANKER in nodes and catalog.RATINGS in nodes
    assert tab.errors() == []


def _upstream(edges: tuple[tuple[str, str, str], ...], root: str) -> set[tuple[str, str, str]]:
    """The declared edges on the walk upstream from ``root`` (source to destination)."""
    found, todo = set(), [root]
    while todo:
        src = todo.pop()
        for edge in edges:
            if edge[0] == src and edge[1] not in ("deployed_as", "part_of") and edge not in found:
                found.add(edge)
                todo.append(edge[2])
    return found


def test_ranker_lineage_shows_its_inputs(tab: Any) -> None:
    page = tab.open(f"lineage?uri={q(RANKER)}")
    drawn = {tuple(e) for e in page.evaluate(
        "window.reelgraph.cy.edges().map(e => [e.source().id(), e.data('kind'), e.target().id()])")}
    expected = _upstream(catalog.EDGES, RANKER)
    assert (RANKER, "uses_feature", catalog.TAG_EMBEDDING) in expected
    assert expected <= drawn
    nodes = set(page.evaluate("window.reelgraph.cy.nodes().map(n => n.id())"))
    assert {catalog.RATINGS, catalog.TAGS, catalog.USER_GENRE, catalog.ITEM_POPULARITY,
            catalog.TAG_EMBEDDING, catalog.RANKER} <= nodes
    assert "rg://deployment/personalization/homepage-ranker" not in nodes  # downstream
    # The edge-kind filter: only trained_on edges.
    page = tab.open(f"lineage?uri={q(RANKER)}&edge_kind=trained_on")
    kinds = set(page.evaluate("window.reelgraph.cy.edges().map(e => e.data('kind'))"))
    assert kinds == {"trained_on"}
    # Path highlight from the ranker to tags.csv.
    page = tab.open(f"lineage?uri={q(RANKER)}")
    page.fill("#path-to", catalog.TAGS)
    page.click("text=Highlight path")
    page.wait_for_selector("text=highlighted")
    on_path = page.evaluate("window.reelgraph.cy.nodes('.path').map(n => n.id())")
    assert RANKER in on_path and catalog.TAGS in on_path
    # Expand ratings.csv: its downstream users join the drawing.
    before = page.evaluate("window.reelgraph.cy.nodes().length")
    page.fill("#node-pick", "ratings.csv")
    page.press("#node-pick", "Enter")
    page.click("text=Expand")
    page.wait_for_selector("text=Expanded:")
    assert page.evaluate("window.reelgraph.cy.nodes().length") > before
    assert tab.errors() == []


def test_promote_and_roll_back_through_the_page(tab: Any, server: Any) -> None:
    home = server.home
    page = tab.open(f"models?name={q(home.model)}")
    v2, v1 = home.unstaged, home.unstaged - 1
    page.click(f"[aria-label='Move v{v2} to staging']")
    page.fill("#token-input", "not-the-token")  # a wrong token is refused and forgotten
    page.click("#token-dialog button.primary")
    page.wait_for_selector("#outcome .error")
    assert "token" in page.inner_text("#outcome")
    page.click(f"[aria-label='Move v{v2} to staging']")
    page.fill("#token-input", TOKEN)
    page.click("#token-dialog button.primary")
    page.wait_for_selector(f"text=Moved v{v2} to staging")
    page.click(f"[aria-label='Move v{v2} to production']")  # the token is remembered
    page.wait_for_selector(f"text=Moved v{v2} to production")
    with Workspace.open(home.settings()) as ws:
        registry = ModelRegistry(ws)
        assert registry.version(home.model, v2).stage == "production"
        assert registry.version(home.model, v1).stage == "archived"
    page.click(f"text=Roll back to v{v1}")
    page.wait_for_selector(f"text=Moved v{v1} to production")
    with Workspace.open(home.settings()) as ws:
        assert ModelRegistry(ws).version(home.model, v1).stage == "production"
    assert page.evaluate("sessionStorage.getItem('reelgraph.token')") == TOKEN
    assert page.evaluate("localStorage.length") == 0
    assert tab.errors(allow="401") == []


def test_bad_input_reads_as_an_error(tab: Any) -> None:
    page = tab.open(f"node?uri={q('rg://model/nowhere/nothing@1')}")
    error = page.inner_text("main .error")
    assert "does not exist" in error and "Fix:" in error
    page = tab.open(f"lineage?uri={q('not a uri')}")
    assert "Fix:" in page.inner_text("main .error")
    page = tab.open("search?q=")
    assert "empty search" in page.inner_text("main")
    page = tab.open("nowhere")
    assert "there is no page 'nowhere'" in page.inner_text("main .error")
    # The only console errors are the browser's own notes of the refused requests.
    assert tab.errors(allow="the server responded with a status of 4") == []


def test_a_lost_connection_says_so_and_retries(tab: Any) -> None:
    page = tab.page
    page.goto(f"{tab.base}/#/models")
    tab.ready()
    page.route("**/api/v1/**", lambda route: route.abort())  # the server is gone
    page.click("nav >> text=Runs")
    banner = page.locator("#connection")
    banner.wait_for()
    assert "Lost the connection" in banner.inner_text()
    page.unroute("**/api/v1/**")  # it is back: the next retry renders the page
    page.wait_for_selector("main[data-state=ready] h1:has-text('Runs')")
    assert banner.is_hidden()
    assert tab.page_errors == []


def test_frame_scrubbing_by_keyboard_and_by_shot(tab: Any, server: Any) -> None:
    page = tab.open(f"media?asset={server.home.clip_sha256}")
    first = page.get_attribute("img.frame", "src")
    page.focus("#scrub")
    for _ in range(15):  # half a second at 30 fps
        page.keyboard.press("ArrowRight")
    # The frame follows the slider after a short debounce: wait for its new address (the
    # attribute, not the resolved ``.src``, which never equals the relative ``first``).
    page.wait_for_function(
        f"document.querySelector('img.frame').getAttribute('src') !== {first!r}")
    page.wait_for_function("document.querySelector('img.frame').complete && "
                           "document.querySelector('img.frame').naturalWidth > 0")
    assert "at_ns=0&" not in page.get_attribute("img.frame", "src")
    assert page.inner_text("main").count("0.500 s") >= 1
    page.click(".strip button >> nth=0")  # the first shot: back to its start
    assert page.input_value("#scrub") == "0"
    assert page.locator(".track").count() >= 1  # an annotation track per type
    assert tab.errors() == []


@pytest.mark.parametrize(("path", "drawn"), [("/docs", ".swagger-ui .info .title"),
                                             ("/redoc", "redoc-wrap, .redoc-wrap")])
def test_api_docs_render_with_the_network_unavailable(tab: Any, path: str, drawn: str
                                                     ) -> None:
    """Issue 12: /docs and /redoc were blank pages without a network (CDN scripts). Every
    request to another host is refused here, as on a machine with no network."""
    page, refused = tab.page, []

    def offline(route: Any) -> None:
        if route.request.url.startswith(tab.base):
            route.continue_()
        else:
            refused.append((route.request.resource_type, route.request.url))
            route.abort()

    page.route("**/*", offline)
    page.goto(tab.base + path)
    page.wait_for_selector(drawn)
    assert "reelgraph" in page.inner_text("body")
    # Scripts, styles and fonts all come from the server; ReDoc's footer still asks its CDN
    # for a decorative logo, which is missed without harm.
    assert [url for kind, url in refused if kind != "image"] == [] and tab.page_errors == []
