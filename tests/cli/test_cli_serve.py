"""``reelgraph serve`` checks its port before loading anything."""

from __future__ import annotations

import socket
from pathlib import Path

from cli_harness import Cli


def test_a_busy_port_is_one_red_line_before_anything_loads(tmp_path: Path) -> None:
    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'graph.db'}")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = cli.fails("serve", "--port", str(port))
    assert f"127.0.0.1:{port}" in line and "--port" in line
    assert not (tmp_path / "graph.db").exists()  # refused before the graph was opened
