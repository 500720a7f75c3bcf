"""The graph under kill -9 and under concurrent writers: a killed batch leaves nothing; eight
processes doing read-modify-write with expected revisions lose nothing; a batch that writes
a long derived_from chain is checked for cycles once, in memory."""

from __future__ import annotations

import pytest
from fault_harness import crash, python, succeed

from reelgraph.graph import Graph

CHAIN = 300

BATCH = f"""
    import sys
    from reelgraph.graph import Graph
    g = Graph.open(sys.argv[1] if len(sys.argv) > 1 else {{url!r}})
    with g.batch("loader") as b:
        for i in range({CHAIN}):
            b.add(f"rg://dataset/chain/d{{i}}", properties={{{{"i": i}}}})
        for i in range(1, {CHAIN}):
            b.link(f"rg://dataset/chain/d{{i}}", "derived_from", f"rg://dataset/chain/d{{i-1}}")
    g.close()
"""


def test_a_batch_killed_before_commit_leaves_nothing_and_its_retry_lands_once(
        graph_url: str) -> None:
    code = BATCH.format(url=graph_url)
    crash(code, "graph.apply.before_commit")
    g = Graph.open(graph_url)
    try:
        assert g.find(kind="dataset") == []
        succeed(code)
        nodes = g.find(kind="dataset", limit=10_000)
        assert len(nodes) == CHAIN and {n.revision for n in nodes} == {1}
        tail = g.lineage("rg://dataset/chain/d299", depth=CHAIN)
        assert len(tail.nodes) == CHAIN  # every edge of the chain, once
    finally:
        g.close()


INCREMENT = """
    import sys
    from reelgraph.graph import Graph, RevisionConflict
    g = Graph.open({url!r})
    uri, done, conflicts = "rg://dataset/shared/counter", 0, 0
    while done < {times}:
        node = g.show(uri)
        count = node.properties["count"] + 1
        try:  # the whole node, written only if nobody wrote it since we read it
            g.add(uri, expected_revision=node.revision, properties={{**node.properties,
                                                                     "count": count}})
            done += 1
        except RevisionConflict:
            conflicts += 1
        # and a field of our own, merged into whatever the node holds by then
        g.update(uri, properties={{"worker-{n}": done}})
    print(conflicts)
"""


@pytest.mark.slow
def test_eight_processes_read_modify_write_one_node_and_lose_nothing(graph_url: str) -> None:
    g = Graph.open(graph_url)
    try:
        g.add("rg://dataset/shared/counter", properties={"count": 0})
        import subprocess
        import sys
        import textwrap

        times, workers = 5, 8
        started = [subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(INCREMENT.format(url=graph_url, times=times,
                                                                    n=n))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(workers)]
        try:
            outputs = [p.communicate(timeout=300) for p in started]
        finally:
            for p in started:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
        assert [p.returncode for p in started] == [0] * workers, outputs
        node = g.show("rg://dataset/shared/counter")
        assert node.properties["count"] == times * workers  # no increment lost
        assert all(node.properties[f"worker-{n}"] == times for n in range(workers))
    finally:
        g.close()


def test_a_chain_batch_checks_cycles_once_and_still_refuses_one(graph_url: str) -> None:
    from reelgraph.core.errors import Conflict

    assert python(BATCH.format(url=graph_url)).returncode == 0
    g = Graph.open(graph_url)
    try:
        with pytest.raises(Conflict, match="would close a cycle"):
            g.link("rg://dataset/chain/d0", "derived_from", "rg://dataset/chain/d299")
        with pytest.raises(Conflict, match="would close a cycle"), g.batch("t") as b:
            b.add("rg://dataset/loop/a")
            b.add("rg://dataset/loop/b")
            b.link("rg://dataset/loop/a", "derived_from", "rg://dataset/loop/b")
            b.link("rg://dataset/loop/b", "derived_from", "rg://dataset/loop/a")
        assert g.get("rg://dataset/loop/a") is None  # the refused batch stored nothing
    finally:
        g.close()
