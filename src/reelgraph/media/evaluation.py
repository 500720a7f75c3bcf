"""How good detected cuts are against labelled ones: precision, recall and F1.

Cuts are frame indices (the first frame of the new shot). A detected cut matches a labelled
one at most ``tolerance`` frames away, one to one: each label matches at most one
detection and the reverse. Sweeping both sorted lists together and pairing the earliest
unmatched pair within the tolerance gives the largest possible number of matches (on a
line, a greedy sweep is optimal). ``ignore`` holds ``(first, last)`` frame ranges, e.g.
fades, where a detection is neither right nor wrong: detections inside one (widened by the
tolerance) are dropped before matching, and labels are never placed there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reelgraph.core import InvalidInput


@dataclass(frozen=True)
class CutScore:
    """Detected cuts against labelled ones: true and false positives, misses, precision and
    recall."""
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        real = self.true_positives + self.false_negatives
        return self.true_positives / real if real else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: CutScore) -> CutScore:
        """Pooled counts over several clips (micro-averaged scores)."""
        return CutScore(self.true_positives + other.true_positives,
                        self.false_positives + other.false_positives,
                        self.false_negatives + other.false_negatives)

    def to_dict(self) -> dict[str, float | int]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "true_positives": self.true_positives,
                "false_positives": self.false_positives,
                "false_negatives": self.false_negatives}


def score_cuts(detected: Iterable[int], labelled: Iterable[int], tolerance: int = 2,
               ignore: Sequence[tuple[int, int]] = ()) -> CutScore:
    """Score detected cut frames against labelled ones, within ``tolerance`` frames."""
    if tolerance < 0:
        raise InvalidInput(f"tolerance {tolerance} is negative", "pass 0 or more frames")
    found = sorted(c for c in set(detected)
                   if not any(a - tolerance <= c <= b + tolerance for a, b in ignore))
    truth = sorted(set(labelled))
    i = j = matched = 0
    while i < len(found) and j < len(truth):
        if abs(found[i] - truth[j]) <= tolerance:
            matched += 1
            i += 1
            j += 1
        elif found[i] < truth[j]:
            i += 1
        else:
            j += 1
    return CutScore(matched, len(found) - matched, len(truth) - matched)
