"""The demo's match-cut part: the bundled clips' best match cuts, with rendered previews.

``MatchCutter.find`` runs over the clips the media stage registered (memoized per shot and
per pair in the feature store: a second demo run computes nothing), and the best few pairs
across titles, per kind, get a transition preview (the last second of A cut into the first
second of B) written next to the contact sheets. A pair whose preview cannot be made (a shot
too short) is reported with why and the others are still shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reelgraph.core import ReelgraphError
from reelgraph.demo.progress import Quiet, Stages
from reelgraph.flows import Workspace
from reelgraph.matchcut import MatchCutter, MatchPair, render_preview
from reelgraph.media import MediaAsset

BEST = 3  # pairs shown per kind


@dataclass(frozen=True)
class MatchCutReport:
    """What the demo's match-cut stage found: the best pairs per kind and what it computed."""

    best: list[tuple[MatchPair, Path | None]]  # per kind, best first; None: no preview
    candidates: dict[str, int]  # kind -> candidate pairs ranked
    computed: int  # shot features and pair features computed by this run (0 when memoized)
    failed: dict[str, str] = field(default_factory=dict)  # title or pair -> why


def find_match_cuts(ws: Workspace, assets: list[MediaAsset], out_dir: Path,
                    stages: Stages | None = None) -> MatchCutReport:
    stages = stages or Quiet()
    stages.begin(f"finding match cuts across {len(assets)} clips")
    report = MatchCutter(ws).find(assets)
    failed = dict(report.failed)
    best: list[tuple[MatchPair, Path | None]] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind in sorted(report.candidates):
        across = [p for p in report.pairs if p.kind == kind and p.title_a != p.title_b]
        for pair in across[:BEST]:
            path = out_dir / f"{kind}-{pair.id}.mp4"
            try:
                best.append((pair, path if path.exists() else
                             render_preview(ws, pair, path)))
            except ReelgraphError as exc:
                failed[pair.id] = str(exc)
                best.append((pair, None))
    stages.end()
    return MatchCutReport(best, dict(report.candidates),
                          report.features_computed + report.pairs_computed, failed)
