"""The graph under kill -9 and under concurrent writers: a killed batch leaves nothing; eight
processes doing read-modify-write with expected revisions lose nothing; a batch that writes
a long derived_from chain is checked for cycles once, in memory."""

from __future__ import annotations

import pytest
from fault_harness import Processes, crash, succeed

from reelgraph.core.errors import Conflict
from reelgraph.graph import Graph

CHAIN = 300

BATCH = """
    import sys
    from reelgraph.graph import Graph
    url, size = sys.argv[1], int(sys.argv[2])
    g = Graph.open(url)
    with g.batch("loader") as b:
        for i in range(size):
            b.add(f"rg://dataset/chain/d{i}", properties={"i": i})
        for i in range(1, size):
            b.link(f"rg://dataset/chain/d{i}", "derived_from", f"rg://dataset/chain/d{i-1}")
    g.close()
"""


def test_a_batch_killed_before_commit_leaves_nothing_and_its_retry_lands_once(
        graph_url: str) -> None:
    crash(BATCH, graph_url, str(CHAIN), point="graph.apply.before_commit")
    g = Graph.open(graph_url)
    try:
        assert g.find(kind="dataset") == []
        succeed(BATCH, graph_url, str(CHAIN))
        nodes = g.find(kind="dataset", limit=10_000)
        assert len(nodes) == CHAIN and {n.revision for n in nodes} == {1}
        assert len(list(g.store.all_edges(["derived_from"]))) == CHAIN - 1  # each edge once
    finally:
        g.close()


INCREMENT = """
    import sys
    from reelgraph.graph import Graph, RevisionConflict
    url, times, me = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    g = Graph.open(url)
    uri, done, conflicts = "rg://dataset/shared/counter", 0, 0
    while done < times:
        node = g.show(uri)
        try:  # the whole node, written only if nobody wrote it since we read it
            g.add(uri, expected_revision=node.revision,
                  properties={**node.properties, "count": node.properties["count"] + 1})
            done += 1
        except RevisionConflict:
            conflicts += 1
        # and a property of our own, merged into whatever the node holds by then
        g.update(uri, properties={f"worker-{me}": done})
    print(conflicts)
"""


@pytest.mark.slow
def test_eight_processes_read_modify_write_one_node_and_lose_nothing(
        graph_url: str, processes: Processes) -> None:
    times, workers = 5, 8
    g = Graph.open(graph_url)
    try:
        g.add("rg://dataset/shared/counter", properties={"count": 0})
        for n in range(workers):
            processes.start(INCREMENT, graph_url, str(times), str(n))
        outputs = processes.wait_all()
        assert [code for code, _, _ in outputs] == [0] * workers, outputs
        node = g.show("rg://dataset/shared/counter")
        assert node.properties["count"] == times * workers  # no increment lost
        assert all(node.properties[f"worker-{n}"] == times for n in range(workers))
        assert sum(int(out) for _, out, _ in outputs) > 0  # the writers did collide
    finally:
        g.close()


def test_a_chain_batch_checks_cycles_once_and_still_refuses_one(graph_url: str) -> None:
    succeed(BATCH, graph_url, str(CHAIN))
    g = Graph.open(graph_url)
    try:
        with pytest.raises(Conflict, match="would close a cycle"):
            g.link("rg://dataset/chain/d0", "derived_from", f"rg://dataset/chain/d{CHAIN - 1}")
        with pytest.raises(Conflict, match="would close a cycle"), g.batch("t") as b:
            b.add("rg://dataset/loop/a")
            b.add("rg://dataset/loop/b")
            b.link("rg://dataset/loop/a", "derived_from", "rg://dataset/loop/b")
            b.link("rg://dataset/loop/b", "derived_from", "rg://dataset/loop/a")
        assert g.get("rg://dataset/loop/a") is None  # the refused batch stored nothing
    finally:
        g.close()
