"""The browser suite's fixtures: a demo-like home (``ui_home``), ``reelgraph serve`` on it in
a subprocess on a free port, and headless Debian Chromium driven by Playwright. Each page
records its console errors and uncaught exceptions, which the tests assert on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ui_home import TOKEN, UiHome, build

CHROMIUM = "/usr/bin/chromium"
# No downloads, no background traffic: the browser only talks to the test's server.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    home: UiHome
    process: subprocess.Popen[bytes]


def start_server(home: UiHome, log: Path) -> Server:
    port = free_port()
    env = {**os.environ, "REELGRAPH_API_TOKEN": TOKEN, "REELGRAPH_HOME": str(home.home)}
    env.pop("REELGRAPH_DATABASE_URL", None)
    cli = Path(sys.executable).with_name("reelgraph")
    with log.open("wb") as out:
        process = subprocess.Popen([str(cli), "serve", "--port", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"reelgraph serve exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/recommend/deployment", timeout=5):
                return Server(url, home, process)
        except OSError:
            time.sleep(0.3)
    stop_server(process)
    raise RuntimeError(f"reelgraph serve did not answer in 120 s: {log.read_text()[-2000:]}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def ui_home(tmp_path_factory: pytest.TempPathFactory) -> UiHome:
    return build(tmp_path_factory.mktemp("ui") / "home")


@pytest.fixture(scope="session")
def server(ui_home: UiHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(ui_home, tmp_path_factory.mktemp("ui-log") / "serve.log")
    yield running
    stop_server(running.process)


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
    page.on("console", lambda m: m.type == "error" and opened.console_errors.append(
        f"{m.text} ({m.location.get('url')})"))
    page.on("pageerror", lambda e: opened.page_errors.append(str(e)))
    yield opened
    context.close()


DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="session")
def screenshot() -> Any:
    """Keep a picture of a page in docs/ (the README shows some)."""
    def take(page: Any, name: str) -> None:
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / f"ui-{name}.png"))

    return take
