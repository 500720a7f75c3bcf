"""``reelgraph serve`` on a home in a subprocess on a free port, and how the UI's tests and
benchmark launch the Debian Chromium (Playwright cannot download browsers here)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from processes import free_port, stop_server
from ui_home import TOKEN, UiHome

CHROMIUM = "/usr/bin/chromium"
# No downloads, no background traffic: the browser only talks to the test's server.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}


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
    stop_server(process, grace_s=15)
    raise RuntimeError(f"reelgraph serve did not answer in 120 s: {log.read_text()[-2000:]}")
