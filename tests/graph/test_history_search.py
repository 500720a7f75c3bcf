"""An ``as_of`` search is scored and ranked in SQL (issue 16, item 14): on random histories
it gives the same hits, scores and order as the Python scan it replaced, on every back-end."""

from __future__ import annotations

import random

import pytest

from reelgraph.core import now_us
from reelgraph.graph import Graph
from reelgraph.graph.sql.store import SqlGraphStore, search_history, search_history_scan
from reelgraph.graph.store import NodeFilter

# Words and odd characters: JSON-escaped tags, LIKE wildcards, the two non-ASCII characters
# whose Python lower case is ASCII, substrings of each other.
WORDS = ["rating", "ratings", "movie", "lens", "movielens", "pop", "popcorn", "a_b", "100%",
         "\u212aelvin", "\u0130stanbul", "caf\u00e9", 'say "hi"', "back\\slash", "x"]
KINDS = ["dataset", "model", "feature"]


def text(rng: random.Random, most: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, most)))


def random_history(graph: Graph, rng: random.Random) -> list[int]:
    """Several batches of adds, rewrites and deletes; the time after each."""
    times = []
    uris: list[str] = []
    live: set[str] = set()
    for _ in range(6):
        touched: set[str] = set()  # one change per node per batch
        with graph.batch("history") as batch:
            for _ in range(rng.randint(10, 30)):
                if live - touched and rng.random() < 0.1:
                    gone = rng.choice(sorted(live - touched))
                    batch.delete(gone)
                    live.discard(gone)
                    touched.add(gone)
                    continue
                uri = (rng.choice(uris) if uris and rng.random() < 0.5 else
                       f"rg://{rng.choice(KINDS)}/{rng.choice(['ml', 'ads'])}/"
                       f"{rng.choice(WORDS[:8]).replace('_', '')}{len(uris)}")
                if uri in touched:
                    continue
                uris.append(uri)
                live.add(uri)
                touched.add(uri)
                batch.add(uri, description=text(rng, 4),
                          tags=sorted({rng.choice(WORDS) for _ in range(rng.randint(0, 2))}),
                          properties={rng.choice(["p", "q"]): text(rng, 2)},
                          owner=rng.choice(["me", "you"]))
        times.append(now_us())
    return times


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_scoring_gives_the_python_scans_answers(graph: Graph, seed: int) -> None:
    rng = random.Random(seed)
    times = random_history(graph, rng)
    store = graph.store
    assert isinstance(store, SqlGraphStore)
    queries = [["rating"], ["pop"], ["movielens"], ["lens", "pop"], ["a_b"], ["100"], ["k"],
               ["i"], ["hi"], ["u00e9"], ["slash"], ["ml"], ["x", "rating"], ["nothing"]]
    filters = [NodeFilter(), NodeFilter(kind="model"), NodeFilter(owner="me"),
               NodeFilter(tag="pop"), NodeFilter(namespace="ads", tag="x")]
    compared = 0
    for as_of in [times[0], times[2], times[-1]]:
        for terms in queries:
            for where in filters:
                for limit in (3, 1000):
                    new = search_history(store, terms, where, limit, as_of)
                    old = search_history_scan(store, terms, where, limit, as_of)
                    assert [(h.node.uri, h.node.revision, h.score) for h in new] == [
                        (h.node.uri, h.node.revision, h.score) for h in old], (terms, where)
                    assert [h.node for h in new] == [h.node for h in old]
                    compared += bool(old)
    assert compared > 50  # most comparisons had hits to compare


def test_a_non_ascii_term_still_finds_its_node(graph: Graph) -> None:
    graph.add("rg://dataset/ml/menu", description="Caf\u00e9 cr\u00e8me")
    t = now_us()
    graph.add("rg://dataset/ml/menu", description="tea")
    assert [h.node.uri for h in graph.search("caf\u00e9", as_of=t)] == ["rg://dataset/ml/menu"]
    assert graph.search("caf\u00e9") == []
