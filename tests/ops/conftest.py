"""A served recommender with RecSysOps plugged in: two briefly trained versions of the
ml-latest-small slice in a real registry, the impression log and rule overlay on the
service, and a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from serving_samples import register
from trained_models import recommenders

from reelgraph.core import Settings
from reelgraph.features.online import open_online_store
from reelgraph.flows import Workspace
from reelgraph.ops import ImpressionLog, Overlay, RecSysOps
from reelgraph.recsys import UnifiedRecommender
from reelgraph.serving import RecommendationService, ServingConfig

__all__ = ["recommenders"]
ONLINE_EVERYWHERE = {c: "online" for c in ("related", "category", "search", "notifications")}


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0  # 2026-01-01

    def __call__(self) -> float:
        return self.now


def scrambled(model: UnifiedRecommender) -> UnifiedRecommender:
    """The same model with its learned weights replaced by noise: deliberately worse."""
    import torch

    worse = UnifiedRecommender.from_bundle(model.to_bundle())
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in worse.net.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
    return worse


@dataclass
class Served:
    ws: Workspace
    ops: RecSysOps
    service: RecommendationService
    log: ImpressionLog
    overlay: Overlay
    clock: Clock
    bundles: Path
    recommenders: tuple[UnifiedRecommender, UnifiedRecommender]

    def user(self) -> str:
        model = self.recommenders[0]
        return model.vocabulary.user_ids[int(model.known_users.argmax())]


@pytest.fixture
def served(tmp_path: Path, recommenders: tuple[UnifiedRecommender, UnifiedRecommender]
           ) -> Iterator[Served]:
    clock = Clock()
    with Workspace.open(Settings.load(home=str(tmp_path / "home"), database_url="")) as ws:
        register(ws, recommenders[0], tmp_path / "bundles")
        ops = RecSysOps(ws, clock=clock)
        assert ops.impressions_root is not None
        log = ImpressionLog(ops.impressions_root, clock=clock, flush_s=0.05)
        overlay = Overlay(ops.store, clock=clock, reload_s=0.0)
        online = open_online_store(f"sqlite:///{tmp_path / 'online.db'}")
        service = RecommendationService(ws, ServingConfig(environments=ONLINE_EVERYWHERE),
                                        online, impressions=log, rules=overlay)
        service.refresh(precompute=False)
        try:
            yield Served(ws, ops, service, log, overlay, clock, tmp_path / "bundles",
                         recommenders)
        finally:
            log.close()
            service.close()
            online.close()
