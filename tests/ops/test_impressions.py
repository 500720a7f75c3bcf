"""The impression log: every answered request becomes a Parquet row off the request path,
failed ones too; a full queue drops and counts; sampling keeps a share; outcomes join."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from conftest import Served
from reelgraph.core.errors import InvalidInput, NotFound
from reelgraph.ops import ImpressionLog, join_outcomes, read_impressions
from reelgraph.serving import Impression


def impression(n: int) -> Impression:
    return Impression(f"r{n}", "related", {"item": "1", "k": 2}, {}, "m@1", "online", None,
                      ("2", "3"), (0.5, 0.25), 1.0, False)


def test_served_requests_are_logged_with_inputs_answers_and_errors(served: Served) -> None:
    user = served.user()
    answer = served.service.recommend("notifications", user=user, k=5,
                                      context={"time": 1_500_000_000})
    with pytest.raises(NotFound):
        served.service.recommend("related", item="no-such-item")
    served.log.flush()
    rows = {r["request_id"]: r for r in served.ops.impressions().to_pylist()}
    assert len(rows) == 2
    logged = rows[answer.request_id]
    assert logged["user"] == user and logged["k"] == 5 and logged["canvas"] == "notifications"
    assert logged["items"] == [i for i, _ in answer.recommendations.items]
    assert logged["scores"] == [s for _, s in answer.recommendations.items]
    assert logged["model_version"].endswith("@1") and logged["environment"] == "online"
    assert logged["time"] == served.clock.now and logged["latency_ms"] > 0
    assert '"time": 1500000000' in logged["context"]
    failed = next(r for r in rows.values() if r["error"])
    assert failed["error"].startswith("NotFound") and failed["items"] == []


def test_a_full_queue_drops_and_counts_never_blocks(tmp_path: Path) -> None:
    gate = threading.Event()

    class SlowLog(ImpressionLog):
        def _write(self, rows: list[dict[str, object]]) -> None:
            gate.wait(10)
            super()._write(rows)

    log = SlowLog(tmp_path, queue_size=3, batch_size=1, flush_s=0.01)
    for n in range(20):
        log.record(impression(n))
    gate.set()
    log.close()
    stats = log.stats
    assert stats.dropped > 0
    assert stats.recorded + stats.dropped == 20
    assert stats.written == stats.recorded == read_impressions(tmp_path).num_rows


def test_sampling_keeps_about_its_share_and_the_same_requests(tmp_path: Path) -> None:
    with ImpressionLog(tmp_path / "a", sample_rate=0.25) as first:
        for n in range(400):
            first.record(impression(n))
    with ImpressionLog(tmp_path / "b", sample_rate=0.25) as second:
        for n in range(400):
            second.record(impression(n))
    kept = read_impressions(tmp_path / "a")["request_id"].to_pylist()
    assert 60 < len(kept) < 140
    assert kept == read_impressions(tmp_path / "b")["request_id"].to_pylist()
    assert first.stats.sampled_out == 400 - len(kept)
    with pytest.raises(InvalidInput, match="sample rate"):
        ImpressionLog(tmp_path, sample_rate=0)


def test_outcomes_join_to_the_users_latest_impression(tmp_path: Path) -> None:
    with ImpressionLog(tmp_path, clock=lambda: 1000.0) as log:
        log.record(Impression("a", "notifications", {"user": "7", "k": 2}, {}, "m@1",
                              "online", None, ("10", "11"), (2.0, 1.0), 1.0, False))
    plays = pa.table({"user": ["7", "7", "8"], "item": ["11", "99", "10"],
                      "time": [1030.0, 1060.0, 1030.0]})
    joined = join_outcomes(read_impressions(tmp_path), plays).to_pylist()
    by_item = {r["item"]: r["rank"] for r in joined}
    assert by_item == {"11": 2, "99": None}  # user 8 had no impression
    with pytest.raises(InvalidInput, match="lack column"):
        join_outcomes(read_impressions(tmp_path), plays.rename_columns(["user", "movie",
                                                                        "time"]))


def test_a_refused_request_with_an_absurd_k_is_logged_and_the_writer_lives_on(
        tmp_path: Path) -> None:
    # the API logs refused requests too: a fuzzer's k = 10**30 once killed the writer thread
    log = ImpressionLog(tmp_path, batch_size=1, flush_s=0.01)
    odd = Impression("odd", "related", {"item": "1", "k": 10**30}, {}, None, None, None,
                     (), (), 1.0, False, "InvalidInput: k is too large")
    log.record(odd)
    log.record(impression(1))
    log.close()
    rows = {r["request_id"]: r for r in read_impressions(tmp_path).to_pylist()}
    assert rows["odd"]["k"] is None and rows["r1"]["k"] == 2
    assert log.stats.written == 2 and log.stats.dropped == 0
