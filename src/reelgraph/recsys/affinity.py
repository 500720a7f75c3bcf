"""Which canvases should share a model? Task affinity by pairwise training.

For every canvas A: a model trained on A alone, and for every other canvas B a model
trained on A and B together (the same architecture and settings, ``experiment.fit``). B's
affinity for A is the change in A's NDCG@10 per validation request when B's examples are
added, with a paired bootstrap interval (``recsys.compare``). A canvas *gains from sharing*
when some partner helps it beyond the noise, is *better apart* when every partner hurts it,
and is *neutral* otherwise. Everything is measured on the validation split inside the
training period (``ExperimentConfig.validation``), never on the test period, since it is a
choice of how to build the model. ``store_affinity`` puts the report on a registered model
version's graph node (property ``task_affinity``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reelgraph.core import InvalidInput
from reelgraph.recsys.canvases import CANVAS_NAMES
from reelgraph.recsys.compare import Difference, paired_bootstrap
from reelgraph.recsys.experiment import ExperimentConfig, Prepared, fit, per_request_on

if TYPE_CHECKING:
    from reelgraph.flows import Workspace
    from reelgraph.flows.registry import ModelVersion

METRIC = "ndcg@10"
PROPERTY = "task_affinity"


@dataclass(frozen=True)
class AffinityReport:
    canvases: tuple[str, ...]
    alone: dict[str, float]  # each canvas's NDCG@10 trained alone
    gains: dict[str, dict[str, Difference]]  # canvas -> partner -> NDCG@10 change

    def verdict(self, canvas: str) -> str:
        found = [d.verdict for d in self.gains[canvas].values()]
        if "win" in found:
            return "gains from sharing"
        if found and all(v == "loss" for v in found):
            return "better apart"
        return "neutral"

    def to_dict(self) -> dict[str, Any]:
        return {"metric": METRIC, "method": "pairwise training against single-task, on "
                "the validation split; gains: partner's effect on the canvas's metric per "
                "request, 95% paired bootstrap interval",
                "alone": self.alone,
                "gains": {c: {p: d.to_dict() for p, d in by.items()}
                          for c, by in self.gains.items()},
                "verdicts": {c: self.verdict(c) for c in self.canvases}}


def measure_affinity(prepared: Prepared, config: ExperimentConfig,
                     canvases: Iterable[str] = CANVAS_NAMES,
                     progress: Callable[[str], None] | None = None) -> AffinityReport:
    """Pairwise training against single-task for every pair of ``canvases``."""
    chosen = tuple(canvases)
    if len(chosen) < 2 or len(set(chosen)) != len(chosen):
        raise InvalidInput(f"task affinity needs two or more distinct canvases, not {chosen}",
                           f"name at least two of {', '.join(CANVAS_NAMES)}")
    inner = prepared.validation or prepared
    quick = replace(config, validation=0.0)  # the epoch count as configured, no inner run

    def trained(together: tuple[str, ...]) -> dict[str, Any]:
        if progress is not None:
            progress(" + ".join(together))
        scorer = fit(inner, quick, together).recommender.scorer
        return {c: v[METRIC] for c, v in per_request_on(inner, scorer, together).items()}

    alone = {c: trained((c,))[c] for c in chosen}
    gains: dict[str, dict[str, Difference]] = {c: {} for c in chosen}
    for i, first in enumerate(chosen):
        for second in chosen[i + 1:]:
            pair = trained((first, second))
            for canvas, partner in ((first, second), (second, first)):
                gains[canvas][partner] = paired_bootstrap(pair[canvas], alone[canvas])
    return AffinityReport(chosen, {c: float(v.mean()) for c, v in alone.items()}, gains)


def store_affinity(ws: Workspace, version: ModelVersion, report: AffinityReport,
                   author: str = "reelgraph recsys affinity") -> None:
    """Put the report on the version's graph node, keeping its other properties."""
    node = ws.graph.get(version.uri)
    if node is None:
        raise InvalidInput(f"{version.uri} has no graph node",
                           "register the model through the registry (which mirrors it into "
                           "the graph) before storing its task affinity")
    ws.graph.add(version.uri, author=author, owner=node.owner, description=node.description,
                 tags=node.tags, properties={**node.properties, PROPERTY: report.to_dict()})
