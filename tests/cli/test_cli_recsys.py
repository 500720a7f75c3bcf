"""``reelgraph recsys``: train and promote on a real slice of MovieLens, then evaluate,
recommend on every canvas, precompute the nearline store and score a batch."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cli_harness import Cli
from recsys_samples import write_slice

from reelgraph.recsys import MODEL


@pytest.mark.slow
def test_train_evaluate_recommend_precompute_batch(tmp_path: Path) -> None:
    data = write_slice(tmp_path / "ml-slice")
    cli = Cli(tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'reelgraph.db'}",
              ("recsys",))
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
    assert "needs a category" in cli.fails("recommend", "category", "--user", "1")
    assert "search cannot be precomputed" in cli.fails("batch", "search", "--out",
                                                      str(tmp_path / "s.parquet"))
    assert not (tmp_path / "s.parquet").exists()


def test_recommend_before_any_training_says_what_to_do(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'reelgraph.db'}",
              ("recsys",))
    assert "recsys train" in cli.fails("recommend", "related", "--item", "1")
