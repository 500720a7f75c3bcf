"""Derived links: model → run → cell → experiment becomes model → experiment, idempotently."""

from __future__ import annotations

from reelgraph.graph import Graph

MODEL = "rg://model/personalization/unified-ranker@3"
RUN = "rg://run/personalization/train-2026-11-01"
CELL = "rg://experiment_cell/personalization/ab-42-treatment"
EXP = "rg://experiment/personalization/ab-42"


def test_derive_adds_once_and_removes_stale(graph: Graph) -> None:
    with graph.batch() as b:
        for uri in (MODEL, RUN, CELL, EXP):
            b.add(uri)
        b.link(MODEL, "produced_by", RUN)
        b.link(RUN, "part_of", CELL)
        b.link(CELL, "part_of", EXP)
    first = graph.derive()[0]
    assert (first.added, first.removed) == (1, 0)
    assert [n.uri for n in graph.impact(MODEL).of_kind("experiment")] == [EXP]
    revisions = len(list(graph.store.all_edges()))
    second = graph.derive()[0]
    assert (second.added, second.removed, second.kept) == (0, 0, 1)
    assert len(list(graph.store.all_edges())) == revisions  # nothing written
    graph.unlink(RUN, "part_of", CELL)
    third = graph.derive()[0]
    assert (third.added, third.removed) == (0, 1)
    assert graph.impact(MODEL).of_kind("experiment") == []


def test_hand_made_edges_of_the_same_kind_are_kept(graph: Graph) -> None:
    graph.add(MODEL)
    graph.add(EXP)
    graph.link(MODEL, "in_experiment", EXP)
    assert graph.derive()[0].removed == 0
    assert [n.uri for n in graph.impact(MODEL).of_kind("experiment")] == [EXP]
