"""Hierarchical time bins: how a window query finds overlapping intervals with a B-tree.

An interval index must answer "which [start, end) overlap [ws, we)". A B-tree on ``start_ns``
alone bounds only one side (``start_ns < we``), so a window late in a two-hour film reads
nearly every annotation of the film. SQLite's R*Tree and PostgreSQL's GiST ``int8range``
index answer it directly, but they are two different schemas, two query paths and, for the
R*Tree, a virtual table kept in step by hand.

Instead every interval gets one integer ``bin`` (the binning scheme of genome browsers and
BAM files): levels of bins of 2**30 ns (~1.07 s), 2**33 (~8.6 s), 2**36 (~69 s),
2**39 (~9.2 min), 2**42 (~73 min), 2**45 (~9.8 h) and 2**48 ns (~78 h), aligned at zero; an
interval goes into the smallest bin that holds it whole, and into one catch-all bin when no
bin does. An interval that overlaps the window lies inside a bin that overlaps the window,
so at each level the candidate bins are one contiguous range, ``(ws >> shift)`` to
``((we - 1) >> shift)``. The query is eight index range scans on ``(set_id, bin, start_ns)``
OR-ed together (SQLite: MULTI-INDEX OR; PostgreSQL: BitmapOr), then the exact test
``start_ns < we AND end_ns > ws`` on what they found. The work is proportional to what the
bins overlapping the window hold, whatever the asset's length, and long annotations (a scene,
a whole-asset label) sit in coarse bins instead of spoiling a duration bound. Same schema,
same SQL, same plan shape on both back-ends.

Bin ids: ``level << 40 | (start_ns >> shift)``; times are below 2**63, so ``start_ns >> 30``
stays below 2**33 and levels never collide. Changing the levels means recomputing ``bin``
for every stored row (a migration).
"""

from __future__ import annotations

SHIFTS = (30, 33, 36, 39, 42, 45, 48)  # bin widths 2**shift ns, finest first
TOP = len(SHIFTS)  # the catch-all level: intervals no bin holds whole
_LEVEL_BITS = 40


def bin_of(start_ns: int, end_ns: int) -> int:
    """The smallest bin holding ``[start_ns, end_ns)`` whole (``0 <= start_ns < end_ns``)."""
    last = end_ns - 1
    for level, shift in enumerate(SHIFTS):
        if start_ns >> shift == last >> shift:
            return level << _LEVEL_BITS | start_ns >> shift
    return TOP << _LEVEL_BITS


def bin_ranges(start_ns: int, end_ns: int) -> list[tuple[int, int]]:
    """Inclusive ``(low, high)`` bin ranges, one per level, where intervals overlapping the
    window ``[start_ns, end_ns)`` can lie (``start_ns < end_ns``)."""
    low, last = max(start_ns, 0), max(end_ns - 1, 0)
    ranges = [(level << _LEVEL_BITS | low >> shift, level << _LEVEL_BITS | last >> shift)
              for level, shift in enumerate(SHIFTS)]
    ranges.append((TOP << _LEVEL_BITS, TOP << _LEVEL_BITS))
    return ranges
