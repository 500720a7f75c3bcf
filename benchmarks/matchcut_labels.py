"""Merge three labelling passes into a labels file: majority vote and agreement.

Three batches of pairs, listed with their shots, titles and split in ``labelling/pairs.json``:
``candidates`` (180 candidate pairs, see labelling.md), ``every-pair`` (every other pair
of shots within the validation and the test titles, sheets made with ``--every-pair``) and
``train-more`` (40 more train candidate pairs, sheets made with ``--more-train 40``).
Each pass P of a batch has a key (``[every-][motion-]key-P.json``: sheet number -> pair id)
and answers (``[every-][motion-]passP.txt``: ``number answer`` per line, 1 = a match cut).
Writes ``<kind>_labels.json``: per pair its batch, the three votes and the majority
(``<kind>_match``), and the agreement between passes (share where all three agree, pairwise
agreement, Fleiss' kappa), over all pairs and per batch.

    .venv/bin/python benchmarks/matchcut_labels.py --kind motion
"""

from __future__ import annotations

import argparse
import json
from itertools import combinations
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "matchcut" / "fixtures"
PASSES = (1, 2, 3)
BATCHES = {"candidates": "", "every-pair": "every-", "train-more": "train-"}  # -> file prefix


def read_pass(folder: Path, prefix: str, number: int) -> dict[str, int]:
    """Pair id -> answer of one pass."""
    key = json.loads((folder / f"{prefix}key-{number}.json").read_text())
    answers: dict[str, int] = {}
    for line in (folder / f"{prefix}pass{number}.txt").read_text().splitlines():
        if line.strip():
            fields = line.split()
            answers[key[fields[0]]] = int(fields[1])
    if set(answers) != set(key.values()):
        raise SystemExit(f"pass {number}: {len(key) - len(answers)} numbers unanswered")
    return answers


def fleiss_kappa(votes: list[list[int]]) -> float:
    """Fleiss' kappa for binary votes, the same number of raters per item."""
    raters = len(votes[0])
    share_yes = sum(map(sum, votes)) / (len(votes) * raters)
    expected = share_yes**2 + (1 - share_yes) ** 2
    observed = sum((sum(v) * (sum(v) - 1) + (raters - sum(v)) * (raters - sum(v) - 1))
                   / (raters * (raters - 1)) for v in votes) / len(votes)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def agreement(rows: list[dict[str, Any]], field: str) -> dict[str, Any]:
    votes = [r["votes"] for r in rows]
    splits = sorted({r["split"] for r in rows})
    return {
        "pairs": len(rows), "positives": sum(r[field] for r in rows),
        "per_split": {s: {"pairs": sum(r["split"] == s for r in rows),
                          "positives": sum(r[field] for r in rows if r["split"] == s)}
                      for s in splits},
        "all_three_agree": sum(len(set(v)) == 1 for v in votes) / len(votes),
        "pairwise_agreement": {f"{a}-{b}": sum(v[a - 1] == v[b - 1] for v in votes) / len(votes)
                               for a, b in combinations(PASSES, 2)},
        "fleiss_kappa": fleiss_kappa(votes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=("frame", "motion"), default="motion")
    args = parser.parse_args()
    folder = FIXTURES / "labelling"
    kind_prefix = "motion-" if args.kind == "motion" else ""
    passes = {batch: [read_pass(folder, prefix + kind_prefix, n) for n in PASSES]
              for batch, prefix in BATCHES.items()}
    field = f"{args.kind}_match"
    rows = []
    for pair in json.loads((folder / "pairs.json").read_text()):
        votes = [answers[pair["pair"]] for answers in passes[pair["batch"]]]
        rows.append({**pair, "votes": votes, field: int(sum(votes) >= 2)})
    doc = {"description": f"{args.kind.capitalize()} match-cut labels: 220 candidate pairs "
                          "(K=10) of the clips in ../shared/data/video, Steamboat Willie "
                          "excluded, and every other non-adjacent shot pair within the "
                          "validation and the test titles; three labelling passes (see "
                          f"labelling.md), {field} is the majority vote.",
           "agreement": {**agreement(rows, field),
                         "per_batch": {b: agreement([r for r in rows if r["batch"] == b],
                                                    field) for b in BATCHES}},
           "pairs": rows}
    out = FIXTURES / f"{args.kind}_labels.json"
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{out.name}: {doc['agreement']['positives']} positives of {len(rows)}; "
          f"all three agree on {doc['agreement']['all_three_agree']:.3f}, "
          f"Fleiss' kappa {doc['agreement']['fleiss_kappa']:.3f}")


if __name__ == "__main__":
    main()
