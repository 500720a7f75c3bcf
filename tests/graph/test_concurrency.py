"""Eight processes writing at once lose no node, edge or revision."""

from __future__ import annotations

import itertools
import multiprocessing

import pytest

from reelgraph.graph import Graph

SHARED = "rg://dataset/movielens/ratings"
WRITERS = 8
PER_WRITER = 25


def _writer(url: str, worker: int) -> None:
    graph = Graph.open(url)
    for i in range(PER_WRITER):
        feature = f"rg://feature/w{worker}/f{i}"
        with graph.batch(author=f"worker-{worker}") as b:
            b.add(feature, properties={"worker": worker, "i": i})
            b.link(feature, "derived_from", SHARED)
        # Everyone also revises the one shared node: revisions must stay a clean sequence.
        graph.add(SHARED, properties={"last_writer": worker, "i": i})
    graph.close()


@pytest.mark.slow
def test_eight_processes_lose_nothing(graph_url: str) -> None:
    graph = Graph.open(graph_url)
    graph.add(SHARED)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(graph_url, w)) for w in range(WRITERS)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=300)
    assert [p.exitcode for p in workers] == [0] * WRITERS

    features = graph.find(kind="feature", limit=10_000)
    assert len(features) == WRITERS * PER_WRITER
    downstream = graph.lineage(SHARED, "downstream", depth=1)
    assert len(downstream.nodes) == WRITERS * PER_WRITER + 1
    history = graph.history(SHARED)
    assert [n.revision for n in history] == list(range(1, len(history) + 1))
    assert len(history) == 1 + WRITERS * PER_WRITER  # every write changed the content
    for older, newer in itertools.pairwise(history):
        assert older.valid_to == newer.valid_from  # no gap, no overlap
    assert history[-1].valid_to is None
    graph.close()
