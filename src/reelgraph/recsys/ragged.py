"""Ragged arrays: one flat array of values cut into rows by offsets (CSR without columns).

Row ``i`` is ``values[offsets[i]:offsets[i + 1]]``. Used for everything of varying length
per row: an item's categories, a title's n-grams, a request's relevant items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


def ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The positions ``starts[i]..ends[i]-1`` of every row, concatenated (vectorised)."""
    lengths = np.maximum(ends - starts, 0).astype(np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    row_of = np.repeat(np.arange(len(lengths)), lengths)
    first = np.cumsum(lengths) - lengths
    within = np.arange(total) - first[row_of]
    return np.asarray(np.asarray(starts, dtype=np.int64)[row_of] + within, dtype=np.int64)


@dataclass(frozen=True)
class Ragged:
    offsets: np.ndarray  # int64, len(rows) + 1, starts at 0
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i]: self.offsets[i + 1]]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def row_ids(self) -> np.ndarray:
        """For each value, the row it belongs to."""
        return np.repeat(np.arange(len(self)), self.lengths)

    def take(self, rows: np.ndarray) -> Ragged:
        """The given rows, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        return Ragged.from_lengths(ends - starts, self.values[ranges(starts, ends)])

    @classmethod
    def from_lengths(cls, lengths: np.ndarray, values: np.ndarray) -> Ragged:
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(offsets, values)

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[int]], dtype: type = np.int32) -> Ragged:
        listed = [list(r) for r in rows]
        flat: np.ndarray = np.fromiter((v for r in listed for v in r), dtype=dtype)
        return cls.from_lengths(np.array([len(r) for r in listed], dtype=np.int64), flat)

    @classmethod
    def from_pairs(cls, rows: np.ndarray, values: np.ndarray, n_rows: int) -> Ragged:
        """Group ``values`` by ``rows`` (stable: values keep their order within a row)."""
        order = np.argsort(rows, kind="stable")
        lengths = np.bincount(rows, minlength=n_rows)
        return cls.from_lengths(lengths, values[order])

    def unique_rows(self) -> Ragged:
        """Each row's distinct values, sorted."""
        rows = self.row_ids
        order = np.lexsort((self.values, rows))
        rows, values = rows[order], self.values[order]
        keep = np.r_[True, (rows[1:] != rows[:-1]) | (values[1:] != values[:-1])]
        return Ragged.from_lengths(np.bincount(rows[keep], minlength=len(self)), values[keep])

    @classmethod
    def concat(cls, parts: Sequence[Ragged]) -> Ragged:
        if not parts:
            return cls(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32))
        return cls.from_lengths(np.concatenate([p.lengths for p in parts]),
                                np.concatenate([p.values for p in parts]))
