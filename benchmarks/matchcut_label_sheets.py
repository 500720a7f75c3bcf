"""Labelling sheets for match-cut pairs: the pairs to label, drawn as numbered image grids,
one shuffled order per pass (see ``tests/matchcut/fixtures/labelling.md``).

Reads the ranking a ``MatchCutter.find`` left in ``--home``, keeps the candidate pairs whose
two titles are in the same split (``SPLITS``: by source film, so one film never spans two
splits), takes every test and validation pair and ``--train`` train pairs (seeded), and for
pass P (seed P) writes ``sheet-P-NN.png`` (20 pairs each: shot A at its middle and its last
frame, then shot B at its first frame and its middle) and ``key-P.json`` (number -> pair id).
The labeller answers by number only and never sees another pass's key or answers.

``--kind motion`` draws the same pairs for motion match cuts (``motion-P-NN.png``,
``motion-key-P.json``, order seeded 2000 + P): shot A 0.5 s before its end, then its last
frame with the optical flow of that last half second drawn as arrows; a red bar; shot B's
first frame with the flow of its first half second, then B 0.5 s in. Yellow arrows are the
summed Farneback flow on a grid (where things moved, and which way), the thick cyan arrow
from the centre is the median (the camera's) motion.

``--every-pair`` draws every not yet labelled shot pair within the validation titles and
within the test titles instead (``every-`` prefix, orders seeded 1500 + P / 2500 + P, and
``every-pairs.json`` with each pair's shots, titles and split).

``--more-train N`` draws N more of the not yet labelled train candidate pairs (seed 7)
instead (``train-`` prefix, orders seeded 1700 + P / 2700 + P, ``train-pairs.json``): the
learned scorer's training set grows, validation and test stay as they are.

    .venv/bin/python benchmarks/matchcut_label_sheets.py --home H --out DIR --pass 1
    .venv/bin/python benchmarks/matchcut_label_sheets.py --home H --out DIR --pass 1 \
        --kind motion [--every-pair]
"""

from __future__ import annotations

import argparse
import json
import random
from itertools import pairwise
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from reelgraph.core import Settings
from reelgraph.flows import Workspace
from reelgraph.matchcut import MatchPair, PairStore, register_titles
from reelgraph.matchcut.pairs import pair_id
from reelgraph.matchcut.titles import title_shots
from reelgraph.media import MediaLibrary, read_frames

SPLITS = {  # by source film; every other title is in validation
    "tears-of-steel-battle-clip-medium.webm": "train", "tears_of_steel_300_310.mp4": "train",
    "big_buck_bunny_0_30.webm": "test", "big_buck_bunny_432_433.webm": "test",
    "big_buck_bunny_trailer_480p.mkv": "test",
}
THUMB = (160, 90)
PER_SHEET = 20
NS = 1_000_000_000
LABELS = Path(__file__).resolve().parent.parent / "tests/matchcut/fixtures/frame_labels.json"
VIDEO_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "video"
EXHAUSTIVE = ("validation", "test")  # splits small enough to label every shot pair of


def split_of(pair: MatchPair) -> str | None:
    a, b = (SPLITS.get(t, "validation") for t in (pair.title_a, pair.title_b))
    return a if a == b else None


def to_label(pairs: list[MatchPair], train: int, seed: int = 0) -> list[MatchPair]:
    """One pair per shot pair (frame and motion candidates share it), split-internal."""
    unique: dict[frozenset[str], MatchPair] = {}
    for pair in pairs:
        if split_of(pair) is not None:
            unique.setdefault(frozenset((pair.shot_a, pair.shot_b)), pair)
    chosen = sorted(unique.values(), key=lambda p: p.id)
    trains = [p for p in chosen if split_of(p) == "train"]
    kept = random.Random(seed).sample(trains, min(train, len(trains)))
    return [p for p in chosen if split_of(p) != "train"] + sorted(kept, key=lambda p: p.id)


def labelled(pairs: list[MatchPair]) -> list[MatchPair]:
    """The candidate pairs already labelled for frame matches (one per shot pair), so motion
    is labelled on exactly the same pairs."""
    rows = json.loads(LABELS.read_text())["pairs"]
    wanted = {frozenset((r["shot_a"], r["shot_b"])) for r in rows}
    unique: dict[frozenset[str], MatchPair] = {}
    for pair in pairs:
        if frozenset((pair.shot_a, pair.shot_b)) in wanted:
            unique.setdefault(frozenset((pair.shot_a, pair.shot_b)), pair)
    if len(unique) != len(wanted):
        raise SystemExit(f"{len(wanted) - len(unique)} labelled pairs are not in this ranking: "
                         "run `MatchCutter.find` over the same clips into --home first")
    return sorted(unique.values(), key=lambda p: p.id)


def every_pair(ws: Workspace) -> list[MatchPair]:
    """Every shot pair within the validation and the test titles (each split on its own)
    that is not labelled yet, adjacent shots of a title left out: with these labelled too,
    the candidate stage's recall is measured against all pairs, not only its own picks."""
    files = sorted(p for p in VIDEO_DIR.iterdir() if "steamboat" not in p.name)
    assets, _ = register_titles(ws, files)
    shots = [(asset, shot) for asset in assets for shot in title_shots(ws, asset).shots]
    done = {frozenset((r["shot_a"], r["shot_b"])) for r in json.loads(LABELS.read_text())["pairs"]}
    found = []
    for n, (asset_a, a) in enumerate(shots):
        for asset_b, b in shots[n + 1:]:
            pair = MatchPair(pair_id("frame", a.key, b.key), "frame", a.key, b.key,
                             asset_a.file_name, asset_b.file_name, asset_a.uri, asset_b.uri,
                             (a.start_ns, a.end_ns), (b.start_ns, b.end_ns), 0.0, "none")
            same_title_neighbours = a.title == b.title and abs(a.index - b.index) == 1
            if (split_of(pair) in EXHAUSTIVE and not same_title_neighbours
                    and frozenset((a.key, b.key)) not in done):
                found.append(pair)
    return sorted(found, key=lambda p: p.id)


def more_train(pairs: list[MatchPair], count: int, seed: int = 7) -> list[MatchPair]:
    """``count`` train candidate pairs (one per shot pair) not labelled yet, seeded."""
    done = {frozenset((r["shot_a"], r["shot_b"])) for r in json.loads(LABELS.read_text())["pairs"]}
    unique: dict[frozenset[str], MatchPair] = {}
    for pair in pairs:
        shots = frozenset((pair.shot_a, pair.shot_b))
        if split_of(pair) == "train" and shots not in done:
            unique.setdefault(shots, pair)
    fresh = sorted(unique.values(), key=lambda p: p.id)
    return sorted(random.Random(seed).sample(fresh, min(count, len(fresh))), key=lambda p: p.id)


def frame_at(location: str, ns: int) -> np.ndarray:
    start = max(0, ns - NS // 5)
    frames = list(read_frames(location, size=THUMB[1], start_ns=start, end_ns=ns + NS // 5))
    best = min(frames, key=lambda f: abs(f.pts_ns - ns))
    return np.asarray(Image.fromarray(best.image).resize(THUMB))


def thumbnails(library: MediaLibrary, pair: MatchPair) -> list[np.ndarray]:
    (a0, a1), (b0, b1) = pair.span_a, pair.span_b
    where_a = library.get(pair.asset_a).location
    where_b = library.get(pair.asset_b).location
    return [frame_at(where_a, (a0 + a1) // 2), frame_at(where_a, a1 - NS // 10),
            frame_at(where_b, b0 + NS // 20), frame_at(where_b, (b0 + b1) // 2)]


def frames_between(location: str, start: int, end: int) -> list[np.ndarray]:
    frames = list(read_frames(location, size=THUMB[1], start_ns=max(0, start), end_ns=end))
    return [np.asarray(Image.fromarray(f.image).resize(THUMB)) for f in frames]


def with_flow(frames: list[np.ndarray], shown: np.ndarray) -> np.ndarray:
    """``shown`` with the summed optical flow over ``frames`` drawn as arrows."""
    import cv2

    greys = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    total = np.zeros((*greys[0].shape, 2), np.float32)
    for a, b in pairwise(greys):
        total += cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    image = np.ascontiguousarray(shown.copy())
    height, width = greys[0].shape
    for y in range(height // 10, height, height // 5):
        for x in range(width // 16, width, width // 8):
            dx, dy = total[y - 4:y + 5, x - 4:x + 5].reshape(-1, 2).mean(axis=0)
            if np.hypot(dx, dy) >= 1.5:
                cv2.arrowedLine(image, (x, y), (int(x + dx), int(y + dy)), (255, 230, 0), 1,
                                tipLength=0.3)
    camera = np.median(total.reshape(-1, 2), axis=0)
    centre = (width // 2, height // 2)
    cv2.arrowedLine(image, centre, (int(centre[0] + camera[0]), int(centre[1] + camera[1])),
                    (0, 255, 255), 3, tipLength=0.3)
    return image


def motion_thumbnails(library: MediaLibrary, pair: MatchPair) -> list[np.ndarray]:
    """A 0.5 s before its end, A's end with its last half second's flow | B's start with its
    first half second's flow, B 0.5 s in (windows clipped to the shots)."""
    (a0, a1), (b0, b1) = pair.span_a, pair.span_b
    end_a = frames_between(library.get(pair.asset_a).location, max(a0, a1 - NS // 2), a1)
    start_b = frames_between(library.get(pair.asset_b).location, b0, min(b1, b0 + NS // 2))
    return [end_a[0], with_flow(end_a, end_a[-1]), with_flow(start_b, start_b[0]), start_b[-1]]


def sheet(rows: list[tuple[int, list[np.ndarray]]]) -> Image.Image:
    width, height = THUMB
    column = 4 * width + 3 * 4 + 40 + 30
    image = Image.new("RGB", (2 * column, (PER_SHEET // 2) * (height + 6)), "white")
    draw = ImageDraw.Draw(image)
    for slot, (number, thumbs) in enumerate(rows):
        x = (slot // (PER_SHEET // 2)) * column
        y = (slot % (PER_SHEET // 2)) * (height + 6)
        draw.text((x + 2, y + height // 2 - 5), str(number), fill="black")
        for i, thumb in enumerate(thumbs):
            left = x + 40 + i * (width + 4) + (10 if i >= 2 else 0)
            image.paste(Image.fromarray(thumb), (left, y))
        draw.line([(x + 40 + 2 * (width + 4) + 3, y), (x + 40 + 2 * (width + 4) + 3,
                                                        y + height)], fill="red", width=3)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pass", dest="number", type=int, required=True)
    parser.add_argument("--train", type=int, default=85)
    parser.add_argument("--kind", choices=("frame", "motion"), default="frame")
    parser.add_argument("--every-pair", action="store_true",
                        help="every unlabelled shot pair of the validation and test titles")
    parser.add_argument("--more-train", type=int, default=0,
                        help="this many more unlabelled train candidate pairs")
    args = parser.parse_args()
    motion = args.kind == "motion"
    batch = "every-" if args.every_pair else "train-" if args.more_train else ""
    prefix = batch + ("motion-" if motion else "")
    draw = motion_thumbnails if motion else thumbnails
    args.out.mkdir(parents=True, exist_ok=True)
    settings = Settings.load(home=args.home, database_url="")
    with Workspace.open(settings) as ws:
        ranking = PairStore(ws).all()
        if args.every_pair:
            pairs = every_pair(ws)
        elif args.more_train:
            pairs = more_train(ranking, args.more_train)
        else:
            pairs = labelled(ranking) if motion else to_label(ranking, args.train)
        seed = ((2000 if motion else 1000) + {"every-": 500, "train-": 700, "": 0}[batch]
                + args.number)
        order = random.Random(seed).sample(pairs, len(pairs))
        library = MediaLibrary(ws.graph)
        drawn = [(n + 1, draw(library, p)) for n, p in enumerate(order)]
    for index in range(0, len(drawn), PER_SHEET):
        sheet(drawn[index:index + PER_SHEET]).save(
            args.out / f"{prefix or 'sheet-'}{args.number}-{index // PER_SHEET + 1:02d}.png")
    key = {str(n + 1): p.id for n, p in enumerate(order)}
    if batch:  # what the labels file needs of each pair (the key gives only ids)
        rows = [{"pair": p.id, "shot_a": p.shot_a, "shot_b": p.shot_b, "title_a": p.title_a,
                 "title_b": p.title_b, "split": split_of(p)} for p in sorted(order,
                                                                            key=lambda p: p.id)]
        (args.out / f"{batch}pairs.json").write_text(json.dumps(rows, indent=1) + "\n")
    (args.out / f"{prefix}key-{args.number}.json").write_text(json.dumps(key, indent=0) + "\n")
    print(f"pass {args.number}: {len(order)} pairs on {len(range(0, len(drawn), PER_SHEET))} "
          f"sheets in {args.out}")


if __name__ == "__main__":
    main()
