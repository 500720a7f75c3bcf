"""The demo's week on call: the served recommender operated by RecSysOps for a simulated
week, with one injected fault, detected, diagnosed and rolled back.

In a scratch workspace of its own (``$REELGRAPH_HOME/demo/on-call``, made afresh each run,
so the main graph stays as the rest of the demo left it): the production version is
registered and served with the impression log on; the members of the test period of
ml-latest-small (its latest fifth) come back as traffic, six simulated hours at a time, each
request made as of its rating's time, and what they really watched then arrives as the
plays partition of those hours. The monitor learns its
reference on the first three days. On day four a broken version (the production model's
weights replaced by noise: a bad export) is promoted, with no gate to stop it. Checks run
after every six hours; the first alert's incident is diagnosed (inputs or model, root
cause among the graph's changes) and rolled back, and the week goes on so the restored hit
rate can be read per day.
"""

from __future__ import annotations

import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from reelgraph.core import Settings
from reelgraph.demo import catalog
from reelgraph.demo.progress import Quiet, Stages
from reelgraph.flows import Flow, Runner, Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.ops import (
    Alert,
    Diagnosis,
    ImpressionLog,
    Incident,
    Overlay,
    RecSysOps,
    diagnose,
    rollback,
)
from reelgraph.recsys import MODEL, UnifiedRecommender
from reelgraph.serving import RecommendationService, ServingConfig

EPOCH = 1_767_225_600.0  # the simulated week starts 2026-01-01
QUARTER = 6 * 3600.0
DAYS, LEARN_DAYS, FAULT_DAY = 7, 3, 4
REQUESTS = 60  # per six hours
HELD_OUT = 0.2  # the test period of the recommender's time split
PLAYS = "plays"  # the outcomes dataset, under the scratch home
WHO = "oncall"
BEFORE, BROKEN, AFTER = "before the fault", "the broken version", "after the rollback"
DEPLOYMENT = f"rg://deployment/{MODEL.split('/')[0]}/{MODEL.split('/')[1]}-online"

publish = Flow("publish-recommender", namespace="personalization", params={"path": ""},
               owner="personalization",
               description="register an exported recommender bundle as a model version")


@publish.step
def exported(path: str) -> object:
    return pickle.loads(Path(path).read_bytes())


@dataclass(frozen=True)
class WeekReport:
    """What the week on call showed: the fault, its alert, incident, diagnosis and
    rollback, and the hit rate before, during and after."""

    home: Path  # the scratch workspace, to explore with ``reelgraph ops ...``
    requests: int
    good: int  # the production version
    broken: int  # the version promoted on the fault day
    fault_at: float  # simulated unix seconds
    false_alarms: int  # alerts before the fault
    alert: Alert | None
    incident: Incident | None  # after diagnosis and rollback
    diagnosis: Diagnosis | None
    rolled_back_to: int | None
    hit_rate: list[tuple[int, float, str]]  # per day: (day, share of plays in the top 10,
    # the version(s) that served)
    phases: dict[str, tuple[float, int]]  # before the fault, broken, after the rollback:
    # (hit rate, requests)

    @property
    def hours_to_detect(self) -> float | None:
        return None if self.alert is None else (self.alert.at - self.fault_at) / 3600


def _register(ws: Workspace, bundle: dict[str, Any], folder: Path, why: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"v{len(list(folder.iterdir())) + 1}.pkl"
    path.write_bytes(pickle.dumps(bundle))
    run = Runner(ws).run(publish, {"path": str(path)})
    registry = ModelRegistry(ws)
    number = registry.register(MODEL, run.id, step="exported", who="trainer",
                               owner="personalization", description=why)
    registry.promote_to_production(MODEL, number, who="trainer", why=why)
    return number


def broken_copy(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle with every learned weight replaced by small noise: a bad export (the
    tensors are made by the weights' own ``new_tensor``: torch stays in recsys)."""
    rng = np.random.default_rng(0)
    state = {k: v.new_tensor(rng.normal(0.0, 1.0, tuple(v.shape)))
             if v.is_floating_point() else v for k, v in bundle["state"].items()}
    return {**bundle, "state": state}


def held_out(data_dir: Path, share: float = HELD_OUT) -> pa.Table:
    """The latest ``share`` of the ratings, oldest first: the week's traffic (each request
    is made as of its rating's time, so the member's history stops before it)."""
    table = pcsv.read_csv(data_dir / catalog.RELEASE / "ratings.csv").sort_by("timestamp")
    return table.slice(int(table.num_rows * (1 - share)))


class Week:
    """One simulated deployment: the service with RecSysOps plugged in, on a moved clock."""

    def __init__(self, home: Path, production: UnifiedRecommender) -> None:
        self.now = EPOCH
        self.ws = Workspace.open(Settings.load(home=str(home), database_url=""))
        self.ops = RecSysOps(self.ws, clock=self.clock)
        assert self.ops.impressions_root is not None
        self.log = ImpressionLog(self.ops.impressions_root, clock=self.clock, flush_s=0.2)
        overlay = Overlay(self.ops.store, clock=self.clock, reload_s=0.0)
        online = {c: "online" for c in production.canvases}
        self.service = RecommendationService(
            self.ws, ServingConfig(environments=online,
                                   online_store=f"sqlite:///{home / 'online.db'}"),
            impressions=self.log, rules=overlay, switches=overlay, split=overlay)
        self.bundles = home / "bundles"
        self.plays = home / PLAYS

    def clock(self) -> float:
        return self.now

    def close(self) -> None:
        self.log.close()
        self.service.close()
        self.ws.close()

    def recent_plays(self, span_s: float) -> pa.Table:
        """The plays that arrived in the last ``span_s`` seconds (the diagnosis's outcomes)."""
        parts = [pq.read_table(p) for p in sorted(self.plays.glob("*.parquet"))
                 if float(p.stem) > self.now - span_s]
        return pa.concat_tables(parts)

    def serve(self, quarter: int, rows: pa.Table, rng: np.random.Generator
              ) -> tuple[int, int]:
        """Six hours of traffic from ``rows``; their plays land at its end. Returns (plays
        in the answer's top 10, requests)."""
        start = EPOCH + quarter * QUARTER
        chosen = np.sort(rng.choice(rows.num_rows, min(REQUESTS, rows.num_rows),
                                    replace=False))
        users = rows["userId"].to_pylist()
        items = rows["movieId"].to_pylist()
        stamps = rows["timestamp"].to_pylist()
        at = start + np.sort(rng.uniform(0, QUARTER - 3600, len(chosen)))
        hits = 0
        plays: list[dict[str, Any]] = []
        for when, row in zip(at, chosen, strict=True):
            self.now = float(when)
            user, item = str(users[row]), str(items[row])
            served = self.service.recommend("notifications", user=user, k=10,
                                            context={"time": int(stamps[row])})
            hits += item in {i for i, _ in served.recommendations.items}
            plays.append({"user": user, "item": item, "time": self.now + 60})
        self.now = start + QUARTER
        self.plays.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(plays), self.plays / f"{int(self.now)}.parquet")
        self.log.flush()
        return hits, len(chosen)


def run_week(ws: Workspace, data_dir: Path, stages: Stages | None = None,
             home: Path | None = None) -> WeekReport:
    """The week on call, against the production version of the main workspace's model
    (``home``: the scratch workspace, default ``$REELGRAPH_HOME/demo/on-call``)."""
    stages = stages or Quiet()
    registry = ModelRegistry(ws)
    chosen = registry.version(MODEL, stage="production")
    bundle = ws.artifacts.get(chosen.artifact)
    production = UnifiedRecommender.from_bundle(bundle)
    home = home or ws.settings.home / "demo" / "on-call"
    shutil.rmtree(home, ignore_errors=True)
    traffic = held_out(data_dir)
    parts = np.array_split(np.arange(traffic.num_rows), DAYS * 4)
    rng = np.random.default_rng(0)
    stages.begin("a week on call: simulated traffic, one injected fault", DAYS * 4)
    week = Week(home, production)
    try:
        good = _register(week.ws, bundle, week.bundles, "the demo's production model")
        week.service.refresh(precompute=False)
        monitor = week.ops.add_monitor("serving", "serving", [DEPLOYMENT], "personalization",
                                       source={"outcomes": PLAYS, "horizon_s": 3600.0}).uri
        return _operate(week, good, bundle, monitor, traffic, parts, rng, stages)
    finally:
        week.close()
        stages.end()


def _operate(week: Week, good: int, bundle: dict[str, Any], monitor: str, traffic: pa.Table,
             parts: list[np.ndarray], rng: np.random.Generator, stages: Stages
             ) -> WeekReport:
    ops = week.ops
    daily: dict[int, list[int]] = {}
    by_phase: dict[str, list[int]] = {}
    versions: dict[int, set[int]] = {}
    broken = fault_at = rolled = None
    alert = incident = diagnosis = None
    false_alarms = 0
    for quarter, rows in enumerate(parts):
        day = quarter // 4
        if quarter == FAULT_DAY * 4:
            fault_at = week.now
            broken = _register(week.ws, broken_copy(bundle), week.bundles,
                               "retrained: a bad export, promoted with no gate")
            week.service.refresh(precompute=False)
        serving = week.service.current.version or 0
        versions.setdefault(day, set()).add(serving)
        phase = (BEFORE if fault_at is None else BROKEN if serving == broken else AFTER)
        hits, asked = week.serve(quarter, traffic.take(pa.array(rows)), rng)
        for tally in (daily.setdefault(day, [0, 0]), by_phase.setdefault(phase, [0, 0])):
            tally[0] += hits
            tally[1] += asked
        stages.update(quarter + 1)
        if quarter + 1 == LEARN_DAYS * 4:
            ops.learn(monitor, [EPOCH + q * QUARTER for q in range(1, quarter + 2)])
        if quarter + 1 <= LEARN_DAYS * 4:
            continue
        failed = [r for r in ops.check(week.now) if not r.passed]
        if failed and fault_at is None:
            false_alarms += 1
        elif failed and alert is None and failed[0].incident is not None:
            alert, found = failed[0].alert, failed[0].incident
            diagnosis = diagnose(ops, found.uri, outcomes=week.recent_plays(2 * 86_400.0))
            rolled = rollback(ops, WHO, found.uri)
            week.service.refresh(precompute=False)
            incident = ops.incidents.get(found.uri)
    served = [(d, daily[d][0] / max(daily[d][1], 1),
               "+".join(f"v{v}" for v in sorted(versions[d]))) for d in sorted(daily)]
    return WeekReport(week.ws.settings.home, sum(n for _, n in daily.values()), good,
                      broken or 0, fault_at or 0.0, false_alarms, alert, incident, diagnosis,
                      rolled, served,
                      {p: (h / max(n, 1), n) for p, (h, n) in by_phase.items()})
