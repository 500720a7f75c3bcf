"""The browser suite's fixtures: a demo-like home (``ui_home``), ``reelgraph serve`` on it in
a subprocess on a free port, and headless Debian Chromium driven by Playwright. Each page
records its console errors and uncaught exceptions, which the tests assert on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from processes import stop_server
from ui_home import UiHome, build
from ui_seeds import OpsSeed, seed_matchcut, seed_ops
from ui_server import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, Server, start_server


@pytest.fixture(scope="session")
def ui_home(tmp_path_factory: pytest.TempPathFactory) -> UiHome:
    return build(tmp_path_factory.mktemp("ui") / "home")


@pytest.fixture(scope="session")
def server(ui_home: UiHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(ui_home, tmp_path_factory.mktemp("ui-log") / "serve.log")
    yield running
    stop_server(running.process)


@pytest.fixture(scope="session")
def ops_seed(ui_home: UiHome, server: Server, tmp_path_factory: pytest.TempPathFactory) -> OpsSeed:
    """A diagnosed incident, a monitor with checks and alerts, logged requests (written
    beside the running server, which reads them from the same home)."""
    return seed_ops(ui_home.settings(), tmp_path_factory.mktemp("ops-seed"))


@pytest.fixture(scope="session")
def matchcut_seed(
    ui_home: UiHome, server: Server, tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    """Ranked match-cut pairs over two synthetic titles; their file names."""
    return seed_matchcut(ui_home.settings(), tmp_path_factory.mktemp("matchcut-seed"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A browser page on the server, with what went wrong in it."""

    page: Any
    base: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def open(self, route: str) -> Any:
        """Load ``/#/ROUTE`` and wait until the page has rendered and its reads are done."""
        self.page.goto(f"{self.base}/#/{route}")
        self.ready()
        return self.page

    def ready(self) -> None:
        self.page.wait_for_selector("main[data-state=ready]")
        self.page.wait_for_load_state("networkidle")
        # Parts filled after the page renders (dom.js fill) say "Loading…" until they load.
        self.page.wait_for_function(
            "![...document.querySelectorAll('main p.muted')]"
            ".some(p => p.textContent === 'Loading…')"
        )

    def errors(self, allow: str | None = None) -> list[str]:
        """Uncaught exceptions and console errors, but those mentioning ``allow``."""
        console = [e for e in self.console_errors if allow is None or allow not in e]
        return self.page_errors + console


@pytest.fixture
def tab(browser: Any, server: Server) -> Iterator[Tab]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    opened = Tab(page, server.url)

    def console(message: Any) -> None:
        if message.type == "error":
            opened.console_errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda e: opened.page_errors.append(str(e)))
    yield opened
    context.close()


DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="session")
def screenshot() -> Any:
    """Keep a picture of a page in docs/ (the README shows some)."""

    def take(page: Any, name: str) -> None:
        page.wait_for_function("[...document.images].every(i => i.complete)")
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / f"ui-{name}.png"), full_page=True)

    return take
