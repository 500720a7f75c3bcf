"""The match-cut review gallery in headless Chromium on a real run over two synthetic titles
(``ui_seeds.seed_matchcut``): ranked pairs with both shots' thumbnails, the filters, accept
and reject by button and by keyboard (read back through the API, stored as the reviewer's
annotations), and the transition preview (an MP4 rendered once, then cached)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from ui_home import TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def read(server: Any, path: str) -> Any:
    with urllib.request.urlopen(f"{server.url}/api/v1{path}", timeout=60) as answer:
        return json.load(answer)


def shown_ids(page: Any) -> list[str]:
    return list(page.eval_on_selector_all(".pair", "cards => cards.map(c => c.dataset.pair)"))


def test_gallery_ranks_pairs_with_thumbnails_and_filters(
    tab: Any, matchcut_seed: list[str], server: Any, screenshot: Any
) -> None:
    pairs = read(server, "/matchcut?limit=1000")["pairs"]
    page = tab.open("matchcut")
    assert shown_ids(page) == [p["id"] for p in pairs][: len(shown_ids(page))]
    first = page.locator(".pair").first
    assert first.locator("img.thumb").count() == 2
    page.wait_for_function(
        "[...document.querySelectorAll('.pair img.thumb')].slice(0, 4)"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    page.select_option("#f-kind", "motion")
    tab.ready()
    kinds = page.eval_on_selector_all(".pair .tag", "tags => tags.map(t => t.textContent)")
    assert kinds and set(kinds) == {"motion"}
    page.select_option("#f-title", matchcut_seed[1])
    tab.ready()
    texts = page.eval_on_selector_all(".pair figcaption", "f => f.map(x => x.textContent)")
    assert all(matchcut_seed[1] in " ".join(texts[i : i + 3]) for i in range(0, len(texts), 3))
    best = max(p["score"] for p in pairs if p["kind"] == "motion")
    page.fill("#f-score", str(best))
    page.dispatch_event("#f-score", "change")
    tab.ready()
    assert page.locator(".pair").count() <= 1
    page.fill("#f-score", str(best + 1))
    page.dispatch_event("#f-score", "change")
    tab.ready()
    assert "No pair matches these filters" in page.inner_text("main")
    # The best four frame matches (thumbnails load lazily: all four are on screen).
    fourth = sorted((p["score"] for p in pairs if p["kind"] == "frame"), reverse=True)[3]
    page = tab.open(f"matchcut?kind=frame&min_score={fourth}")
    assert page.locator(".pair").count() >= 4  # ties share a score
    screenshot(page, "matchcut")
    assert tab.errors() == []


def test_accept_by_button_reject_by_keyboard_are_stored(
    tab: Any, matchcut_seed: list[str], server: Any
) -> None:
    page = tab.open("matchcut?kind=frame")
    ids = shown_ids(page)
    page.fill("#reviewer", "ana")
    page.locator(".pair").first.locator("button.accept").click()
    page.fill("#token-input", TOKEN)
    page.click("#token-dialog button.primary")
    page.wait_for_selector(f".pair[data-pair='{ids[0]}'].accept")
    page.locator(".pair").first.focus()
    page.keyboard.press("j")  # to the second pair
    page.keyboard.press("r")
    page.wait_for_selector(f".pair[data-pair='{ids[1]}'].reject")
    page.keyboard.press("j")
    page.keyboard.press("a")
    page.wait_for_selector(f".pair[data-pair='{ids[2]}'].accept")
    page.keyboard.press("k")
    page.keyboard.press("a")  # changes its mind on the second
    page.wait_for_selector(f".pair[data-pair='{ids[1]}'].accept")
    decided = {i: read(server, f"/matchcut/{i}")["decision"] for i in ids[:4]}
    assert decided == {ids[0]: "accept", ids[1]: "accept", ids[2]: "accept", ids[3]: None}
    # Stored as annotations of shot A's asset by the reviewer.
    pair = read(server, f"/matchcut/{ids[0]}")
    sha = pair["asset_a"].rsplit("/", 1)[-1]
    namespace = pair["asset_a"].split("/")[3]
    mine = read(server, f"/media/{sha}/annotations?namespace={namespace}&producer=review/ana")
    assert ids[0] in json.dumps(mine["annotations"])
    page = tab.open("matchcut?kind=frame")  # a reload shows the stored decisions
    assert page.locator(f".pair[data-pair='{ids[0]}'] .decision").inner_text() == "accept"
    assert tab.errors() == []


def test_transition_preview_plays_and_is_cached(
    tab: Any, matchcut_seed: list[str], server: Any
) -> None:
    page = tab.open("matchcut")
    pair = shown_ids(page)[0]
    fetched = page.evaluate(
        """async (id) => {
        const first = await fetch(`/api/v1/matchcut/${id}/preview.mp4`);
        const body = await first.arrayBuffer();
        const again = await fetch(`/api/v1/matchcut/${id}/preview.mp4`,
            { headers: { "If-None-Match": first.headers.get("ETag") }, cache: "no-store" });
        return { status: first.status, type: first.headers.get("Content-Type"),
                 bytes: body.byteLength, again: again.status };
    }""",
        pair,
    )
    assert fetched["status"] == 200 and fetched["type"] == "video/mp4"
    assert fetched["bytes"] > 1000 and fetched["again"] == 304
    cached = list((server.home.home / "cache" / "matchcut-previews").glob("*.mp4"))
    assert len(cached) >= 1
    video = page.locator(f".pair[data-pair='{pair}'] video.preview")
    video.evaluate("v => v.load()")
    page.wait_for_function(
        f"document.querySelector(\".pair[data-pair='{pair}'] video\").readyState >= 2"
    )
    duration = video.evaluate("v => v.duration")
    assert 0.3 < duration <= 2.1  # at most a second of each shot
    assert tab.errors() == []
