"""A fixed lexical match between a query and every title, as one more inner-product block.

The query-title match a string matcher gets right and learned n-gram embeddings only
approximate: each text's ``TextEncoder`` buckets (its words, their character trigrams and,
with ``whole``, the whole text) weighted by TF-IDF (IDF over the catalog's titles), folded
into ``dim`` columns by signed feature hashing (Weinberger et al. 2009: a bucket adds
``sign * weight`` to column ``column``, so collisions cancel out on average instead of adding
up) and scaled to unit length. The inner product of a query's vector and a title's is then
their TF-IDF cosine: shared rare words count most, a misspelt or truncated word still shares
most of its trigrams, and an exact title shares its whole-text bucket (the rarest of all).
Nothing here is learned; the network learns per canvas how much to trust it.
"""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.ragged import Ragged

_MULTIPLIER = 2_654_435_761  # Knuth's multiplicative hash: spreads bucket ids over columns


def fold(buckets: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(column int64, sign float32) of each bucket id in ``0..buckets-1``."""
    mixed = (np.arange(buckets, dtype=np.uint64) * np.uint64(_MULTIPLIER)) % np.uint64(1 << 32)
    column = (mixed % np.uint64(dim)).astype(np.int64)
    sign = np.where((mixed >> np.uint64(16)) & np.uint64(1), 1.0, -1.0).astype(np.float32)
    return column, sign


def idf(titles: Ragged, buckets: int) -> np.ndarray:
    """float32 (buckets,): smoothed inverse document frequency over the titles."""
    present = np.zeros(buckets, dtype=np.float64)
    for row in range(len(titles)):  # each title counts a bucket once
        present[np.unique(titles.row(row))] += 1.0
    return (np.log((1.0 + len(titles)) / (1.0 + present)) + 1.0).astype(np.float32)


def vectors(
    texts: Ragged, weights: np.ndarray, column: np.ndarray, sign: np.ndarray, dim: int
) -> np.ndarray:
    """float32 (texts, dim): each text's unit TF-IDF vector, folded (empty text: zeros)."""
    values = np.asarray(texts.values, dtype=np.int64)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    np.add.at(out, (texts.row_ids, column[values]), sign[values] * weights[values])
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    unit: np.ndarray = out / np.maximum(norms, 1e-12)
    return unit
