"""``reelgraph recsys``: train and promote on a real slice of MovieLens, then evaluate,
recommend on every canvas, precompute the nearline store and score a batch."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cli_harness import Cli
from recsys_samples import write_slice
from typer.testing import CliRunner

from reelgraph.core import Settings
from reelgraph.flows import Workspace
from reelgraph.recsys import MODEL

NO_SERVER = "http://127.0.0.1:9"  # nothing listens there: whatever runs on 8000 is not asked


@contextmanager
def running_server(home: Path) -> Iterator[str]:
    """``create_app`` of ``home`` under uvicorn in a thread, on a free port, stopped after."""
    import uvicorn

    from reelgraph.api import create_app
    from reelgraph.core import Settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(Settings.load(home=home)), host="127.0.0.1", port=port,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.mark.slow
def test_train_evaluate_recommend_precompute_batch(tmp_path: Path) -> None:
    data = write_slice(tmp_path / "ml-slice")
    cli = Cli(tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'reelgraph.db'}",
              ("recsys",), runner=CliRunner(env={"COLUMNS": "200", "REELGRAPH_SERVER": NO_SERVER}))
    trained = cli.json("train", "--data", str(data), "--epochs", "1", "--dim", "8",
                       "--promote")
    assert trained["version"]["stage"] == "production"
    assert set(trained["evaluation"]) == {"related", "category", "search", "notifications"}

    shown = cli.ok("evaluate").stdout
    assert "NDCG@10" in shown and "single_task" in shown and f"{MODEL}@1" in shown

    answer = cli.json("recommend", "search", "--query", "termnator", "--k", "3")
    assert answer["model_version"] == f"{MODEL}@1" and len(answer["items"]) == 3
    assert "Terminator" in cli.ok("recommend", "search", "--query", "termnator").stdout
    before = cli.json("recommend", "notifications", "--user", "1", "--k", "5")
    assert before["environment"] == "online" and before["fallback"] == "not precomputed yet"
    # Issue 16, item 9: a time past int64 printed a traceback.
    assert "is not a unix time" in cli.fails("recommend", "notifications", "--user", "1",
                                             "--time", "99999999999999999999")

    done = cli.ok("precompute").stdout
    assert "notifications:" in done and "category:" in done
    after = cli.json("recommend", "notifications", "--user", "1", "--k", "5")
    assert after["environment"] == "nearline"
    assert [i["item"] for i in after["items"]] == [i["item"] for i in before["items"]]

    out = tmp_path / "notifications.parquet"
    assert "requests/s" in cli.ok("batch", "notifications", "--out", str(out), "--k", "4").stdout
    table = pq.read_table(out)
    assert table.num_rows == 4 * len(set(table.column("user").to_pylist()))
    assert set(table.column("rank").to_pylist()) == {1, 2, 3, 4}

    assert "unknown canvas 'homepage'" in cli.fails("recommend", "homepage", "--user", "1")
    assert "needs --category" in cli.fails("recommend", "category", "--user", "1")
    assert "needs --item" in cli.fails("recommend", "related")  # flags, not API fields
    assert cli.json("recommend", "category", "--user", "1", "--category", "comedy")["items"]

    with running_server(cli.home) as url:  # a server of this home answers instead
        served = cli("recommend", "search", "--query", "termnator", "--server", url)
        assert served.exit_code == 0 and f"answered by the server at {url}" in served.stdout
        assert "no server" not in served.stderr
    alone = cli("recommend", "search", "--query", "termnator", "--server", url)  # stopped
    assert "loaded here" in alone.stdout and f"no server at {url}" in alone.stderr
    assert "search cannot be precomputed" in cli.fails("batch", "search", "--out",
                                                      str(tmp_path / "s.parquet"))
    assert not (tmp_path / "s.parquet").exists()

    found = cli.json("affinity", "--data", str(data), "--canvas", "related", "--canvas",
                     "notifications", "--dim", "8", "--max-train", "300")
    assert found["stored_on"] == f"rg://model/{MODEL}@1"
    assert set(found["verdicts"]) == {"related", "notifications"}
    with Workspace.open(Settings.load(home=str(tmp_path / "home"), database_url=cli.database_url)
                        ) as ws:
        node = ws.graph.get(found["stored_on"])
    assert node is not None and node.properties["task_affinity"]["verdicts"] == \
        found["verdicts"]
    assert node.properties["stage"] == "production"  # the registry's properties are kept
    assert "two or more distinct canvases" in cli.fails("affinity", "--canvas", "search")


def test_recommend_before_any_training_says_what_to_do(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'reelgraph.db'}",
              ("recsys",))
    assert "recsys train" in cli.fails("recommend", "related", "--item", "1")
