"""Candidate pairs: near-duplicates grouped, short shots dropped, top-K neighbours per shot.

``group_near_duplicates`` joins shots of one title whose vectors are nearly the same picture
(cosine >= ``duplicate_cosine``: the same set-up cut back to) with union-find; each group is
represented by its longest shot, so one group yields one candidate. ``top_k`` finds each
row's nearest rows by inner product on L2-normalised vectors: exactly (tiled matrix
multiply and a running ``torch.topk`` per tile) or with FAISS (HNSW) when ``exact=False``.
``candidates`` puts them together: a pair is kept when either shot is among the other's K
nearest, the two are not adjacent shots of one title, and each shot is long enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reelgraph.core import InvalidInput
from reelgraph.matchcut.scorers import ShotRecord

Matrix = npt.NDArray[np.float32]
_BLOCK = 1024  # query rows per tile
_BASE_BLOCK = 8192  # base rows per tile: a 32 MB score tile, selected while it is hot


@dataclass(frozen=True)
class CandidateConfig:
    k: int = 10
    min_shot_s: float = 0.5  # shorter shots cannot carry a cut
    duplicate_cosine: float = 0.97  # same-title shots this alike are one set-up
    exact: bool = True  # False: FAISS HNSW (approximate, for large catalogues)

    def __post_init__(self) -> None:
        if self.k < 1 or self.min_shot_s < 0 or not 0 < self.duplicate_cosine <= 1:
            raise InvalidInput(
                f"candidate settings out of range (k={self.k}, min_shot_s={self.min_shot_s}, "
                f"duplicate_cosine={self.duplicate_cosine})",
                "use k >= 1, min_shot_s >= 0 and 0 < duplicate_cosine <= 1")


def normalised(vectors: npt.ArrayLike) -> Matrix:
    rows = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.asarray(rows / np.maximum(norms, 1e-12), dtype=np.float32)


def exact_top_k(queries: Matrix, base: Matrix, k: int, *, block: int = _BLOCK,
                base_block: int = _BASE_BLOCK, prefilter: bool = False
                ) -> tuple[Matrix, npt.NDArray[np.int64]]:
    """The ``k`` largest inner products per query row, best first: (scores, indices).

    Tiled: each (query block x base block) matrix multiply, into one reused buffer, is
    followed by ``torch.topk`` on that tile merged into the running top ``k``, so no row of
    N scores is ever sorted. At 64 dimensions the selection costs about as much as the
    multiply (2d flop per score). ``prefilter`` instead gathers only the scores above each
    row's running k-th best; it gives the same answer but measured slower on our CPUs
    (``benchmarks/matchcut_topk_tiling.py``: the gather costs more than ``topk``'s partial
    selection), so it is off by default."""
    import torch

    k = min(k, base.shape[0])
    q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
    b = torch.from_numpy(np.ascontiguousarray(base, dtype=np.float32))
    scores = torch.empty((q.shape[0], k), dtype=torch.float32)
    indices = torch.empty((q.shape[0], k), dtype=torch.int64)
    # One score buffer for every full tile: a fresh 32 MB tensor per multiply costs page
    # faults that, at 64 dimensions, take a third of the multiply's own time.
    buffer = torch.empty((min(block, q.shape[0]), min(base_block, b.shape[0])))
    for start in range(0, q.shape[0], block):
        rows = q[start:start + block]
        best: tuple[Any, Any] | None = None
        for offset in range(0, b.shape[0], base_block):
            part = b[offset:offset + base_block]
            if buffer.shape == (rows.shape[0], part.shape[0]):
                tile = torch.matmul(rows, part.T, out=buffer)
            else:  # the last, smaller row or column block
                tile = rows @ part.T
            if best is None:
                top_scores, top = torch.topk(tile, min(k, tile.shape[1]), dim=1)
                best = top_scores, top + offset
                continue
            if prefilter and best[0].shape[1] == k:  # a full running top k to beat
                found = _above(tile, best[0][:, -1:], offset)
                if found is None:
                    continue
                top_scores, top = found
            else:
                top_scores, top = torch.topk(tile, min(k, tile.shape[1]), dim=1)
                top += offset
            joined = torch.cat([best[0], top_scores], dim=1)
            joined, where = torch.topk(joined, min(k, joined.shape[1]), dim=1)
            best = joined, torch.gather(torch.cat([best[1], top], dim=1), 1, where)
        assert best is not None
        scores[start:start + block], indices[start:start + block] = best
    return scores.numpy(), indices.numpy()


def _above(tile: Any, threshold: Any, offset: int) -> tuple[Any, Any] | None:
    """The tile's scores above each row's threshold, left-aligned in a (rows, most found)
    matrix padded with -inf, and their base indices; None when no score passes."""
    import torch

    row, column = (tile > threshold).nonzero(as_tuple=True)
    if row.numel() == 0:
        return None
    counts = torch.bincount(row, minlength=tile.shape[0])
    # nonzero is row-major: a hit's slot is its rank among its row's hits
    slot = torch.arange(row.numel()) - (torch.cumsum(counts, 0) - counts)[row]
    width = int(counts.max())
    found = torch.full((tile.shape[0], width), float("-inf"))
    where = torch.zeros((tile.shape[0], width), dtype=torch.int64)
    found[row, slot] = tile[row, column]
    where[row, slot] = column + offset
    return found, where


def hnsw_index(base: Matrix, m: int = 32, ef_construction: int = 80) -> object:
    """A FAISS HNSW index over L2-normalised rows (inner product)."""
    import faiss

    index = faiss.IndexHNSWFlat(base.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(base)
    return index


def ann_top_k(index: object, queries: Matrix, k: int, ef_search: int = 64
              ) -> tuple[Matrix, npt.NDArray[np.int64]]:
    index.hnsw.efSearch = max(ef_search, k)  # type: ignore[attr-defined]
    scores, found = index.search(queries, k)  # type: ignore[attr-defined]
    return np.asarray(scores, np.float32), np.asarray(found, np.int64)


def top_k(vectors: Matrix, k: int, exact: bool = True) -> tuple[Matrix,
                                                               npt.NDArray[np.int64]]:
    base = normalised(vectors)
    if exact or len(base) <= 4 * k:
        return exact_top_k(base, base, k)
    return ann_top_k(hnsw_index(base), base, k)


def group_near_duplicates(shots: Sequence[ShotRecord], vectors: Matrix,
                          threshold: float) -> list[int]:
    """Each shot's group representative (an index into ``shots``): shots of one title at
    cosine >= ``threshold`` share one, the longest of the group."""
    parent = list(range(len(shots)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    base = normalised(vectors)
    by_title: dict[str, list[int]] = {}
    for i, shot in enumerate(shots):
        by_title.setdefault(shot.title, []).append(i)
    for members in by_title.values():
        alike = base[members] @ base[members].T
        for a, b in zip(*np.nonzero(np.triu(alike >= threshold, 1)), strict=True):
            parent[root(members[a])] = root(members[b])
    best: dict[int, int] = {}
    for i in range(len(shots)):
        top = root(i)
        if top not in best or shots[i].duration_s > shots[best[top]].duration_s:
            best[top] = i
    return [best[root(i)] for i in range(len(shots))]


def adjacent(a: ShotRecord, b: ShotRecord) -> bool:
    return a.title == b.title and abs(a.index - b.index) <= 1


def candidates(shots: Sequence[ShotRecord], vectors: Matrix, dedup: Matrix,
               config: CandidateConfig) -> list[tuple[int, int, float]]:
    """Candidate pairs ``(i, j, cosine)`` with ``i < j`` (indices into ``shots``)."""
    if len(shots) != len(vectors) or len(shots) != len(dedup):
        raise InvalidInput("shots and vectors differ in length",
                           "pass one vector row per shot")
    keep = [i for i, s in enumerate(shots) if s.duration_s >= config.min_shot_s]
    representative = group_near_duplicates(shots, dedup, config.duplicate_cosine)
    keep = [i for i in keep if representative[i] == i]
    if len(keep) < 2:
        return []
    # Ask for extra neighbours: adjacent shots are dropped after the search.
    scores, found = top_k(vectors[keep], min(config.k + 3, len(keep)), config.exact)
    pairs: dict[tuple[int, int], float] = {}
    for row, i in enumerate(keep):
        taken = 0
        for score, column in zip(scores[row], found[row], strict=True):
            if column < 0 or taken >= config.k:
                break
            j = keep[int(column)]
            if j == i or adjacent(shots[i], shots[j]):
                continue
            taken += 1
            pairs[(min(i, j), max(i, j))] = float(score)
    return [(i, j, score) for (i, j), score in sorted(pairs.items())]
