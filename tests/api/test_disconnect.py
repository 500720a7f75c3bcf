"""A long read stops when its client leaves (issue 16, item 4), against a real uvicorn
process: a client asks ``/frames`` for many large frames and hangs up; the server logs that
decoding stopped well before the limit, and a graceful shutdown (SIGTERM) then completes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

TOKEN = "disconnect-token-1234"
VIDEO = "big_buck_bunny_0_30.webm"  # 30 s: at 120 samples/s far more than a minute to decode
LIMIT = 1000
LOG_CONFIG = {
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                            "stream": "ext://sys.stderr"}},
    "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "INFO"},
                "reelgraph": {"handlers": ["stderr"], "level": "INFO"}},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(log: Path, pattern: str, server: subprocess.Popen[bytes], within_s: float
             ) -> re.Match[str]:
    """The first match of ``pattern`` in the server's log (a wait, not a speed check)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found
        if server.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"no {pattern!r} in the server's log:\n{log.read_text(errors='replace')}")


@pytest.mark.slow  # a server process importing the stack
def test_frames_stop_decoding_when_the_client_leaves_and_shutdown_is_not_blocked(
        tmp_path: Path, shared_data: Path) -> None:
    video = shared_data / "video" / VIDEO
    if not video.exists():
        pytest.skip(f"{video} is missing")
    port = free_port()
    config = tmp_path / "log.json"
    config.write_text(json.dumps(LOG_CONFIG))
    env = {**os.environ, "REELGRAPH_HOME": str(tmp_path / "home"), "REELGRAPH_API_TOKEN": TOKEN,
           "REELGRAPH_MEDIA_ROOTS": str(video.parent),
           "REELGRAPH_MAX_READ_SECONDS": "3600"}  # only the client's leaving can stop it
    env.pop("REELGRAPH_DATABASE_URL", None)
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "reelgraph.api:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-config", str(config)],
            env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(log, "Uvicorn running on", server, 120)
        base = f"http://127.0.0.1:{port}/api/v1/media"
        registered = httpx.post(base, json={"paths": [str(video)]}, timeout=60,
                                headers={"Authorization": f"Bearer {TOKEN}"})
        assert registered.status_code == 201, registered.text
        sha = registered.json()["assets"][0]["sha256"]

        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(f"GET /api/v1/media/{sha}/frames?fps=120&size=1080&limit={LIMIT} "
                           f"HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            time.sleep(0.3)  # the server is decoding; the client gives up
        stopped = wait_for(log, r"the client left after (\d+) of up to (\d+) frames", server,
                           120)
        assert int(stopped.group(1)) < LIMIT == int(stopped.group(2))
        assert server.poll() is None  # still serving
        assert httpx.get(f"{base}/{sha}", timeout=30).status_code == 200

        server.send_signal(signal.SIGTERM)
        # A bound on the wait, not a speed check; uvicorn ends by re-raising the signal.
        assert server.wait(timeout=60) in (0, -signal.SIGTERM)
        text = log.read_text(errors="replace")
        assert "Application shutdown complete" in text and "Finished server process" in text
        assert "Traceback" not in text
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
