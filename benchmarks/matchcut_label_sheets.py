"""Labelling sheets for match-cut pairs: the pairs to label, drawn as numbered image grids,
one shuffled order per pass (see ``tests/matchcut/fixtures/labelling.md``).

Reads the ranking a ``MatchCutter.find`` left in ``--home``, keeps the candidate pairs whose
two titles are in the same split (``SPLITS``: by source film, so one film never spans two
splits), takes every test and validation pair and ``--train`` train pairs (seeded), and for
pass P (seed P) writes ``sheet-P-NN.png`` (20 pairs each: shot A at its middle and its last
frame, then shot B at its first frame and its middle) and ``key-P.json`` (number -> pair id).
The labeller answers by number only and never sees another pass's key or answers.

    .venv/bin/python benchmarks/matchcut_label_sheets.py --home H --out DIR --pass 1
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from reelgraph.core import Settings
from reelgraph.flows import Workspace
from reelgraph.matchcut import MatchPair, PairStore
from reelgraph.media import MediaLibrary, read_frames

SPLITS = {  # by source film; every other title is in validation
    "tears-of-steel-battle-clip-medium.webm": "train", "tears_of_steel_300_310.mp4": "train",
    "big_buck_bunny_0_30.webm": "test", "big_buck_bunny_432_433.webm": "test",
    "big_buck_bunny_trailer_480p.mkv": "test",
}
THUMB = (160, 90)
PER_SHEET = 20
NS = 1_000_000_000


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
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    settings = Settings.load(home=args.home, database_url="")
    with Workspace.open(settings) as ws:
        pairs = to_label(PairStore(ws).all(), args.train)
        order = random.Random(1000 + args.number).sample(pairs, len(pairs))
        library = MediaLibrary(ws.graph)
        drawn = [(n + 1, thumbnails(library, p)) for n, p in enumerate(order)]
    for index in range(0, len(drawn), PER_SHEET):
        sheet(drawn[index:index + PER_SHEET]).save(
            args.out / f"sheet-{args.number}-{index // PER_SHEET + 1:02d}.png")
    key = {str(n + 1): p.id for n, p in enumerate(order)}
    (args.out / f"key-{args.number}.json").write_text(json.dumps(key, indent=0) + "\n")
    print(f"pass {args.number}: {len(order)} pairs on {len(range(0, len(drawn), PER_SHEET))} "
          f"sheets in {args.out}")


if __name__ == "__main__":
    main()
