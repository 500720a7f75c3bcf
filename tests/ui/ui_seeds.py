"""Real RecSysOps and match-cut data for the browser tests of the ops and review pages,
written into the UI home before the server starts.

* ``seed_ops``: the home's unified recommender served with the impression log and rule
  overlay on a clock the seed moves (as ``tests/ops`` does); a serving monitor learns its
  reference on clean traffic, then half the requests fail: its check alerts and opens an
  incident, which is diagnosed. A second version is promoted first, so "Roll back" has a
  version to go back to.
* ``seed_matchcut``: two synthetic titles of the controlled set (``tests/matchcut``), run
  through ``MatchCutter`` for ranked frame and motion pairs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from serving_samples import register

from reelgraph.core import InvalidInput, Settings
from reelgraph.features.online import open_online_store
from reelgraph.flows import Workspace
from reelgraph.matchcut import MatchCutter, register_titles
from reelgraph.ops import ImpressionLog, Overlay, RecSysOps, diagnose
from reelgraph.recsys import MODEL
from reelgraph.serving import RecommendationService, ServingConfig
from reelgraph.serving.deployments import deployment_key

WINDOW = 600.0
START = 1_767_225_600.0  # 2026-01-01, the ops tests' clock
ONLINE_EVERYWHERE = {c: "online" for c in ("related", "category", "search", "notifications")}
MATCHCUT_TITLES = 2
DRIFT_MONITOR = "rg://monitor/personalization/homepage-ranker-drift"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class OpsSeed:
    incident: str  # inc-N
    monitor: str  # its URI
    deployment: str  # the watched deployment's URI
    request_id: str  # a logged request (replays identically)
    production: int  # the version in production (the one "Roll back" leaves)


def _traffic(
    service: RecommendationService,
    log: ImpressionLog,
    clock: Clock,
    users: list[str],
    n: int,
    bad: int = 0,
) -> None:
    """``n`` category requests over the next window, ``bad`` of them refused."""
    for j in range(n):
        clock.now += WINDOW / n
        with contextlib.suppress(InvalidInput):
            service.recommend(
                "category",
                user=users[j % len(users)],
                k=5,
                category="Comedy" if j >= bad else "Nope",
            )
    log.flush()


def _give_kind(ws: Workspace, ops: RecSysOps) -> None:
    """The demo catalog declares its drift monitor as a bare graph node, which RecSysOps
    cannot read (``ops.monitors()`` and ``diagnose`` fail on a monitor without a kind):
    declare it again as the serving monitor it stands for."""
    node = ws.graph.show(DRIFT_MONITOR)
    watches = [
        other.uri
        for way, edge, other in ws.graph.edges(node.key)
        if way == "out" and edge.kind == "monitors"
    ]
    ops.add_monitor(
        DRIFT_MONITOR.rsplit("/", 1)[-1],
        "serving",
        watches,
        node.owner,
        description=node.description,
    )


def seed_ops(settings: Settings, folder: Path) -> OpsSeed:
    clock = Clock()
    with Workspace.open(settings) as ws:
        ops = RecSysOps(ws, clock=clock)
        model = ops.recommender(ops.production_version())
        production = register(ws, model, folder / "bundles")  # v2: v1 is there to go back to
        users = [
            u
            for u, known in zip(model.vocabulary.user_ids, model.known_users, strict=True)
            if known
        ]
        assert ops.impressions_root is not None
        log = ImpressionLog(ops.impressions_root, clock=clock, flush_s=0.05)
        online = open_online_store(f"sqlite:///{folder / 'online.db'}")
        service = RecommendationService(
            ws,
            ServingConfig(environments=ONLINE_EVERYWHERE),
            online,
            impressions=log,
            rules=Overlay(ops.store, clock=clock, reload_s=0.0),
        )
        try:
            service.refresh(precompute=False)
            deployment = deployment_key(MODEL, "online").uri
            _give_kind(ws, ops)
            monitor = ops.add_monitor(
                "serving", "serving", [deployment], "ops-team", window_s=WINDOW
            )
            ends = []
            for _ in range(6):
                _traffic(service, log, clock, users, 12)
                ends.append(clock.now)
            ops.learn(monitor.uri, ends)
            _traffic(service, log, clock, users, 12)
            ops.check(monitors=[monitor.uri])
            _traffic(service, log, clock, users, 12, bad=6)  # half the requests fail
            report = ops.check(monitors=[monitor.uri])[0]
            assert report.incident is not None, report.to_dict()
            diagnose(ops, report.incident.uri)
            request_id = ops.impressions().to_pylist()[3]["request_id"]
        finally:
            log.close()
            service.close()
            online.close()
    return OpsSeed(
        report.incident.uri.rsplit("/", 1)[-1], monitor.uri, deployment, request_id, production
    )


def _controlled_set() -> object:
    """``tests/matchcut/matchcut_samples``, the match-cut tests' synthetic set (not on the
    path of this folder's tests)."""
    path = Path(__file__).resolve().parents[1] / "matchcut" / "matchcut_samples.py"
    name = "matchcut_samples"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def seed_matchcut(settings: Settings, folder: Path) -> list[str]:
    """Find match cuts in two synthetic titles; returns their file names."""
    samples = _controlled_set()
    folder.mkdir(parents=True, exist_ok=True)
    paths, _ = samples.write_set(folder, MATCHCUT_TITLES)  # type: ignore[attr-defined]
    with Workspace.open(settings) as ws:
        assets, failed = register_titles(ws, paths)
        assert not failed, failed
        report = MatchCutter(ws).find(assets)
        assert report.pairs and not report.failed, report.failed
    return [p.name for p in paths]
