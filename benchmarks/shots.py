"""How fast and how good is reelgraph's shot detection, next to PySceneDetect's command line?

On the hand-labelled clips (``tests/media/fixtures/cuts.json``, files in
``../shared/data/video``), each repeat runs, in turn:

- ``reelgraph content`` / ``reelgraph adaptive``: ``detect_shots(path, ShotConfig(...))`` in
  this process (after one warm-up call, so imports are not timed): PyAV decodes with FFmpeg's
  threads, libswscale scales to 96 px straight from YUV, a worker thread decodes ahead, and
  PySceneDetect's ``ContentDetector`` / ``AdaptiveDetector`` get each small frame;
  ``reelgraph content, 1 thread`` is the same with one decoder thread (least CPU);
- the same two in a fresh Python process (``python -c ...``), timed from the outside like
  the command line, interpreter start-up and imports included;
- ``scenedetect -i FILE -o DIR detect-content list-scenes`` and ``... detect-adaptive
  list-scenes``: PySceneDetect's command line with its defaults (OpenCV decodes at full size,
  then it downscales to about 256 px wide), in a subprocess;
- ``scenedetect API content`` / ``adaptive``: the same pipeline through its Python API
  (``scenedetect.detect(path, ContentDetector(min_scene_len=0.6))``) in this process, so its
  CPU time can be compared with ours without start-up;
- ``decode only``: PyAV decoding every frame on one thread, the floor for both.

Figures per system, summed over the clips (median of the repeats per clip): wall seconds,
CPU seconds (user + system, all threads; for subprocesses from ``RUSAGE_CHILDREN``),
frames per second and times real time (video seconds / wall seconds). For the command line
the detection stage alone is also read from its log ("Processed N frames in X seconds
(average F FPS)": N / F).
F1, precision and recall pool every clip's cuts (tolerance 2 frames, one-to-one matching,
detections inside labelled fades ignored).

    .venv/bin/python benchmarks/shots.py                 # 3 repeats, ~3 minutes
    .venv/bin/python benchmarks/shots.py --repeats 1

Target: reelgraph content at least 2x the command line's throughput at equal or better F1.
The machine's load average is recorded before and after: on a shared machine, wall times
move with other work; CPU seconds move less.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from machine import versions as package_versions
from reelgraph.media import CutScore, MediaProbe, ShotConfig, detect_shots, probe, score_cuts
from reelgraph.media.shots import cut_frames

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "shots.json"
LABELS = ROOT / "tests" / "media" / "fixtures" / "cuts.json"
VIDEO_DIR = ROOT.parent / "shared" / "data" / "video"
SCENEDETECT = Path(sys.executable).parent / "scenedetect"
TARGET = 2.0
TOLERANCE = 2
DETECTORS = ("content", "adaptive")

CHILD = """
import json, sys
from reelgraph.media import ShotConfig, detect_shots
from reelgraph.media.shots import cut_frames
shots = detect_shots(sys.argv[1], ShotConfig(detector=sys.argv[2]))
print(json.dumps(cut_frames(shots)))
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_in_process(path: Path, detector: str, threads: int | None = None) -> dict[str, Any]:
    config = ShotConfig(detector=detector, decoder_threads=threads)  # type: ignore[arg-type]
    # CPU of this process and of the segment workers it starts (and waits for)
    wall, cpu = time.perf_counter(), time.process_time() + children_cpu()
    shots = detect_shots(path, config)
    return {"wall_s": time.perf_counter() - wall,
            "cpu_s": time.process_time() + children_cpu() - cpu, "cuts": cut_frames(shots)}


def run_process(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    cpu, wall = children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return done, wall, cpu


def run_scenedetect_api(path: Path, detector: str) -> dict[str, Any]:
    """PySceneDetect's own pipeline in this process (OpenCV decodes, it downscales), set up
    as its command line is (0.6 s minimum scene length), so start-up is not timed."""
    import scenedetect
    from scenedetect.detectors import AdaptiveDetector, ContentDetector

    found = ContentDetector(min_scene_len=0.6) if detector == "content" \
        else AdaptiveDetector(min_scene_len=0.6)
    wall, cpu = time.perf_counter(), time.process_time()
    scenes = scenedetect.detect(str(path), found, backend="opencv")
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
            "cuts": [start.frame_num for start, _ in scenes[1:]]}


def run_decode_only(path: Path) -> dict[str, Any]:
    """The floor: PyAV decoding every frame on one thread, nothing else (no cuts)."""
    import av

    wall, cpu = time.perf_counter(), time.process_time()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type, stream.thread_count = "SLICE", 1
        for _ in container.decode(stream):
            pass
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
            "cuts": []}


def run_reelgraph_process(path: Path, detector: str) -> dict[str, Any]:
    done, wall, cpu = run_process([sys.executable, "-c", CHILD, str(path), detector])
    return {"wall_s": wall, "cpu_s": cpu, "cuts": json.loads(done.stdout.strip())}


def run_scenedetect(path: Path, detector: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as out:
        done, wall, cpu = run_process([str(SCENEDETECT), "-i", str(path), "-o", out,
                                       f"detect-{detector}", "list-scenes"])
        table = next(Path(out).glob("*-Scenes.csv")).read_text().splitlines()
    log = done.stdout + done.stderr
    # "Processed N frames in X seconds (average F FPS)": X is rounded to 0.1 s, so use N / F
    stage = re.search(r"Processed (\d+) frames in [\d.]+ seconds \(average ([\d.]+) FPS\)",
                      log)
    # the CSV's first line lists timecodes; then one row per scene, frames counted from 1
    rows = list(csv.DictReader(table[1:]))
    cuts = [int(row["Start Frame"]) - 1 for row in rows[1:]]
    return {"wall_s": wall, "cpu_s": cpu, "cuts": cuts,
            "detect_s": int(stage.group(1)) / float(stage.group(2)) if stage else None}


SYSTEMS: dict[str, Callable[[Path], dict[str, Any]]] = {
    **{f"reelgraph {d}": partial(run_in_process, detector=d) for d in DETECTORS},
    "reelgraph content, 1 thread": partial(run_in_process, detector="content", threads=1),
    **{f"reelgraph {d} (process)": partial(run_reelgraph_process, detector=d)
       for d in DETECTORS},
    **{f"scenedetect CLI {d}": partial(run_scenedetect, detector=d) for d in DETECTORS},
    **{f"scenedetect API {d}": partial(run_scenedetect_api, detector=d) for d in DETECTORS},
    "decode only (PyAV, 1 thread)": run_decode_only,
}


def describe(found: MediaProbe, label: dict[str, Any]) -> dict[str, Any]:
    video = found.video
    return {"frames": label["frames"], "seconds": found.duration_s, "cuts": len(label["cuts"]),
            "codec": video.codec if video else None,
            "size": [video.width, video.height] if video else None}


def versions() -> dict[str, str]:
    import av

    found = package_versions("av", "scenedetect", "opencv-python-headless", "numpy")
    found["libavcodec"] = ".".join(map(str, av.library_versions["libavcodec"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--video-dir", type=Path, default=VIDEO_DIR)
    args = parser.parse_args()
    if not args.video_dir.is_dir():
        raise SystemExit(f"no clips at {args.video_dir}; pass --video-dir")
    labels: dict[str, Any] = json.loads(LABELS.read_text())["clips"]
    clips = {name: args.video_dir / name for name in labels}
    info = {name: probe(path) for name, path in clips.items()}
    load_before = os.getloadavg()

    for path in clips.values():  # warm-up: imports, OpenCV and PySceneDetect set-up
        for detector in DETECTORS:
            run_in_process(path, detector)
            run_scenedetect_api(path, detector)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {s: {c: [] for c in clips}
                                                         for s in SYSTEMS}
    for repeat in range(args.repeats):
        for name, path in clips.items():
            for system, run in SYSTEMS.items():
                runs[system][name].append(run(path))
        print(f"repeat {repeat + 1}/{args.repeats} done", flush=True)

    frames = sum(c["frames"] for c in labels.values())
    seconds = sum(p.duration_s for p in info.values())
    figures: dict[str, dict[str, Any]] = {}
    for system, per_clip in runs.items():
        total = CutScore(0, 0, 0)
        wall = cpu = 0.0
        stage: float | None = 0.0
        clips_out: dict[str, Any] = {}
        for name, repeats in per_clip.items():
            clip = labels[name]
            cuts = repeats[0]["cuts"]
            if any(r["cuts"] != cuts for r in repeats):
                raise SystemExit(f"{system} gave different cuts on {name} between repeats")
            score = score_cuts(cuts, [c["frame"] for c in clip["cuts"]], TOLERANCE,
                               [(g["first"], g["last"]) for g in clip["gradual"]])
            total = total + score
            clip_wall = statistics.median(r["wall_s"] for r in repeats)
            clip_cpu = statistics.median(r["cpu_s"] for r in repeats)
            wall, cpu = wall + clip_wall, cpu + clip_cpu
            stages = [float(r["detect_s"]) for r in repeats if r.get("detect_s") is not None]
            clip_stage = statistics.median(stages) if len(stages) == len(repeats) else None
            stage = None if stage is None or clip_stage is None else stage + clip_stage
            clips_out[name] = {"wall_s": clip_wall, "cpu_s": clip_cpu, "cuts": cuts,
                               "detect_stage_s": clip_stage, **score.to_dict()}
        if system.startswith("decode only"):
            figures[system] = {"wall_s": wall, "cpu_s": cpu, "fps": frames / wall,
                               "fps_cpu": frames / cpu, "x_realtime": seconds / wall,
                               "detect_stage_s": None, "precision": None, "recall": None,
                               "f1": None}
            continue
        figures[system] = {"wall_s": wall, "cpu_s": cpu, "fps": frames / wall,
                           "fps_cpu": frames / cpu, "x_realtime": seconds / wall,
                           "detect_stage_s": stage if "CLI" in system else None,
                           **total.to_dict(), "clips": clips_out}

    ratios: dict[str, dict[str, float]] = {}
    for detector in DETECTORS:
        cli = figures[f"scenedetect CLI {detector}"]
        ours = figures[f"reelgraph {detector}"]
        process = figures[f"reelgraph {detector} (process)"]
        api = figures[f"scenedetect API {detector}"]
        ratios[detector] = {
            "in_process_wall_vs_api": api["wall_s"] / ours["wall_s"],
            "in_process_cpu_vs_api": api["cpu_s"] / ours["cpu_s"],
            "detect_stage_wall": (cli["detect_stage_s"] or float("nan")) / ours["wall_s"],
            "process_wall": cli["wall_s"] / process["wall_s"],
            "process_cpu": cli["cpu_s"] / process["cpu_s"],
            # the CLI's stage runs on one thread, so its wall time is about its CPU time
            "detect_stage_per_cpu_second": (cli["detect_stage_s"] or float("nan"))
            / ours["cpu_s"],
            "f1_difference": ours["f1"] - cli["f1"],
        }
    load_after = os.getloadavg()

    print(f"\n{len(clips)} clips, {frames} frames, {seconds:.1f} s of video; medians of "
          f"{args.repeats} repeats; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after, {os.cpu_count()} CPUs")
    print(f"{'system':<30}{'wall s':>8}{'cpu s':>8}{'fps':>8}{'x real':>8}{'stage s':>9}"
          f"{'P':>7}{'R':>7}{'F1':>7}")
    for system, f in figures.items():
        stage_text = f"{f['detect_stage_s']:.2f}" if f["detect_stage_s"] is not None else "-"
        quality = "".join(f"{f[k]:>7.3f}" if f[k] is not None else f"{'-':>7}"
                          for k in ("precision", "recall", "f1"))
        print(f"{system:<30}{f['wall_s']:>8.2f}{f['cpu_s']:>8.2f}{f['fps']:>8.0f}"
              f"{f['x_realtime']:>8.1f}{stage_text:>9}{quality}")
    floor = figures["decode only (PyAV, 1 thread)"]["cpu_s"]
    print(f"decoding alone takes {floor:.2f} CPU s: on one core nothing can beat the CLI's "
          f"detection stage by more than "
          f"{(figures['scenedetect CLI content']['detect_stage_s'] or 0) / floor:.2f}x")
    for detector, r in ratios.items():
        print(f"{detector}: x faster than PySceneDetect in process: wall "
              f"{r['in_process_wall_vs_api']:.2f}, CPU {r['in_process_cpu_vs_api']:.2f}")
        print(f"{detector}: x faster than the CLI: detection stage (wall) "
              f"{r['detect_stage_wall']:.2f}, per CPU second "
              f"{r['detect_stage_per_cpu_second']:.2f}, whole process wall "
              f"{r['process_wall']:.2f}, "
              f"whole process CPU {r['process_cpu']:.2f}; F1 difference "
              f"{r['f1_difference']:+.3f}")
    met = ratios["content"]["detect_stage_wall"] >= TARGET and \
        ratios["content"]["f1_difference"] >= 0
    print(f"target (content: >= {TARGET:g}x the CLI's detection-stage throughput at equal "
          f"or better F1): {'met' if met else 'NOT met'}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "shots",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "question": "decode + shot detection throughput and cut F1 on labelled clips: "
                    "reelgraph detect_shots vs PySceneDetect's command line",
        "clips": {n: describe(info[n], labels[n]) for n in clips},
        "method": "medians of repeats per clip, summed; in-process runs after a warm-up; "
                  "subprocess CPU from RUSAGE_CHILDREN; CLI with its defaults "
                  "(detect-content / detect-adaptive, list-scenes); F1 pooled over clips, "
                  f"tolerance {TOLERANCE} frames, one-to-one, labelled fades ignored",
        "figures": figures,
        "ratios": ratios,
        "target": {"x_faster": TARGET, "met": met},
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "load_before": load_before,
                    "load_after": load_after},
        "versions": versions(),
    }, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
