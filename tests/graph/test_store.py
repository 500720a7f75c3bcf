"""The GraphStore contract: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from reelgraph.core.clock import now_us
from reelgraph.core.errors import Conflict, InvalidInput, NotFound
from reelgraph.graph import EdgeKind, Graph, LineageFlow, NodeKey

DS = "rg://dataset/movielens/ratings"
FEAT = "rg://feature/personalization/user-genre-affinity"
MODEL = "rg://model/personalization/unified-ranker@3"


def _snapshot(graph: Graph) -> tuple[list[str], list[tuple[int, str, int]]]:
    nodes = [n.uri for n in graph.find()]
    edges = sorted((e.src_id, e.kind, e.dst_id) for e in graph.store.all_edges())
    return nodes, edges


def test_uri_round_trip_and_bad_uris() -> None:
    key = NodeKey.parse("rg://model/personalization/unified-ranker@3")
    assert (key.kind, key.namespace, key.name, key.version) == (
        "model", "personalization", "unified-ranker", "3")
    assert key.uri == "rg://model/personalization/unified-ranker@3"
    assert NodeKey.parse("rg://dataset/movielens/ml-latest-small/ratings.csv").name == (
        "ml-latest-small/ratings.csv")
    for bad in ("model/x/y", "rg://model/x", "rg://Model/x/y", "rg://model/x y/z", "rg://m/x/y@"):
        with pytest.raises(InvalidInput) as info:
            NodeKey.parse(bad)
        assert "Fix:" in str(info.value)


def test_add_show_and_properties(graph: Graph) -> None:
    node = graph.add(DS, owner="data-eng", description="MovieLens ratings",
                     tags=["ratings", "movielens"], properties={"rows": 100836})
    assert node.uri == DS and node.domain == "movielens" and node.revision == 1
    assert graph.show(DS).properties == {"rows": 100836}
    assert graph.show(DS).tags == ("movielens", "ratings")


def test_changes_are_revisions_and_as_of_reads_the_past(graph: Graph) -> None:
    graph.add(DS, owner="data-eng", properties={"rows": 100})
    before = now_us()
    graph.add(DS, owner="data-eng", properties={"rows": 200})
    graph.add(DS, owner="data-eng", properties={"rows": 200})  # identical: no new revision
    history = graph.history(DS)
    assert [n.revision for n in history] == [1, 2]
    assert history[0].valid_to == history[1].valid_from
    assert graph.show(DS, as_of=before).properties == {"rows": 100}
    assert graph.show(DS).properties == {"rows": 200}
    assert graph.get(DS, as_of=history[0].valid_from - 1) is None  # did not exist yet


def test_delete_is_a_tombstone(graph: Graph) -> None:
    graph.add(DS)
    graph.add(FEAT)
    graph.link(FEAT, "derived_from", DS)
    alive = now_us()
    graph.delete(DS)
    assert graph.get(DS) is None
    with pytest.raises(NotFound, match="was deleted"):
        graph.show(DS)
    assert graph.history(DS)[-1].deleted
    assert graph.show(DS, as_of=alive).uri == DS
    assert graph.lineage(FEAT).nodes.keys() == {graph.show(FEAT).id}
    past = graph.lineage(FEAT, as_of=alive)
    assert {n.uri for n in past.nodes.values()} == {FEAT, DS}
    graph.add(DS)  # re-creating writes a new live revision after the tombstone
    assert graph.show(DS).revision == 3


def test_unknown_kinds_and_bad_edges_store_nothing(graph: Graph) -> None:
    graph.add(DS)
    empty = _snapshot(graph)
    with pytest.raises(InvalidInput, match="unknown node kind 'widget'"):
        graph.add("rg://widget/x/y")
    with pytest.raises(InvalidInput, match="unknown edge kind"), graph.batch() as b:
        b.add(FEAT)
        b.link(FEAT, "made_of", DS)
    with pytest.raises(InvalidInput, match="may not connect a dataset to a feature"), \
            graph.batch() as b:
        b.add(FEAT)
        b.link(DS, "trained_on", FEAT)
    with pytest.raises(NotFound, match="does not exist"), graph.batch() as b:
        b.add(FEAT)
        b.link(FEAT, "derived_from", "rg://dataset/movielens/missing")
    assert _snapshot(graph) == empty


def test_registered_kinds_are_validated_and_persist(graph_url: str) -> None:
    graph = Graph.open(graph_url)
    graph.register_node_kind("team", "a group of people")
    graph.register_edge_kind(
        EdgeKind("member_of", LineageFlow.NONE, frozenset({("consumer", "team")})))
    graph.add("rg://team/studio/vfx")
    graph.add("rg://consumer/studio/vfx-tools")
    graph.link("rg://consumer/studio/vfx-tools", "member_of", "rg://team/studio/vfx")
    with pytest.raises(InvalidInput, match="unknown node kind"):
        graph.register_edge_kind(EdgeKind("bad", LineageFlow.UP, frozenset({("team", "robot")})))
    graph.close()
    reopened = Graph.open(graph_url)
    assert "member_of" in reopened.store.registry().edge_kinds
    assert reopened.show("rg://team/studio/vfx").key.kind == "team"
    reopened.close()


def test_version_of_cycle_is_refused(graph: Graph) -> None:
    base, v1, v2 = ("rg://model/personalization/unified-ranker",
                    "rg://model/personalization/unified-ranker@1",
                    "rg://model/personalization/unified-ranker@2")
    for uri in (base, v1, v2):
        graph.add(uri)
    graph.link(v2, "version_of", v1)
    graph.link(v1, "version_of", base)
    before = _snapshot(graph)
    with pytest.raises(Conflict, match="would close a cycle"):
        graph.link(base, "version_of", v2)
    with pytest.raises(Conflict):
        graph.link(v1, "version_of", v1)
    with pytest.raises(InvalidInput, match="may not connect"):
        graph.link(v1, "version_of", DS if graph.get(DS) else graph.add(DS).uri)
    assert _snapshot(graph)[1] == before[1]


def _chain(graph: Graph) -> None:
    with graph.batch() as b:
        b.add(DS, owner="data-eng")
        b.add("rg://dataset/movielens/ratings-clean", owner="data-eng")
        b.add(FEAT, owner="personalization")
        b.add("rg://feature/personalization/item-popularity")
        b.add(MODEL)
        b.add("rg://deployment/personalization/homepage-ranker")
        b.add("rg://consumer/personalization/homepage")
        b.add("rg://monitor/personalization/ranker-ndcg")
        b.add("rg://incident/personalization/inc-1")
        b.link("rg://dataset/movielens/ratings-clean", "derived_from", DS)
        b.link(FEAT, "derived_from", "rg://dataset/movielens/ratings-clean")
        b.link("rg://feature/personalization/item-popularity", "derived_from", DS)
        b.link(MODEL, "uses_feature", FEAT)
        b.link(MODEL, "uses_feature", "rg://feature/personalization/item-popularity")
        b.link(MODEL, "deployed_as", "rg://deployment/personalization/homepage-ranker")
        b.link("rg://deployment/personalization/homepage-ranker", "consumed_by",
               "rg://consumer/personalization/homepage")
        b.link("rg://monitor/personalization/ranker-ndcg", "monitors", MODEL)
        b.link("rg://incident/personalization/inc-1", "affects", MODEL)


def test_lineage_depth_and_edge_kind_filters(graph: Graph) -> None:
    _chain(graph)
    up = graph.lineage(MODEL, "upstream", depth=10)
    assert {n.uri for n in up.nodes.values()} == {
        MODEL, FEAT, "rg://feature/personalization/item-popularity",
        "rg://dataset/movielens/ratings-clean", DS}
    assert up.depth[graph.show(DS).id] == 2  # via item-popularity, the shorter way
    one = graph.lineage(MODEL, "upstream", depth=1)
    assert {n.key.kind for n in one.nodes.values()} == {"model", "feature"}
    only = graph.lineage(MODEL, "upstream", kinds=["uses_feature"])
    assert {n.key.kind for n in only.nodes.values()} == {"model", "feature"}
    down = graph.lineage(FEAT, "downstream")
    assert {n.key.kind for n in down.nodes.values()} == {
        "feature", "model", "deployment", "consumer", "monitor"}
    with pytest.raises(InvalidInput, match="depth"):
        graph.lineage(MODEL, depth=0)
    with pytest.raises(InvalidInput, match="unknown edge kind"):
        graph.lineage(MODEL, kinds=["nope"])


def test_impact_path_and_exports(graph: Graph) -> None:
    from reelgraph.graph import to_dot, to_json

    _chain(graph)
    hit = graph.impact(DS)
    affected = {n.uri for n in hit.of_kind("deployment", "consumer", "monitor")}
    assert affected == {"rg://deployment/personalization/homepage-ranker",
                        "rg://consumer/personalization/homepage",
                        "rg://monitor/personalization/ranker-ndcg"}
    chain = graph.path(DS, "rg://consumer/personalization/homepage")
    assert chain[0][0].uri == DS and chain[-1][0].uri == "rg://consumer/personalization/homepage"
    assert [edge.kind if edge else None for _, edge in chain[1:]] == [
        "derived_from", "uses_feature", "deployed_as", "consumed_by"]
    assert graph.path(DS, "rg://incident/personalization/inc-1")[-1][1] is not None
    data = to_json(graph.lineage(MODEL))
    assert data["root"] == MODEL and len(data["edges"]) == 5
    dot = to_dot(graph.lineage(MODEL))
    assert dot.startswith("digraph") and f'"{MODEL}" -> "{FEAT}"' in dot


def test_search_ranks_names_first_and_filters(graph: Graph) -> None:
    with graph.batch() as b:
        b.add(DS, owner="data-eng", description="Explicit star ratings of films",
              tags=["movielens"])
        b.add("rg://dataset/movielens/movies", owner="data-eng",
              description="Titles and genres; joins with ratings", tags=["movielens"])
        b.add(FEAT, owner="ml-personalization", description="Genre shares per user",
              tags=["user"], properties={"entity": "user", "source_columns": ["genres"]})
        b.add("rg://model/ads/ctr", owner="ads-ml", description="Click model", tags=["ads"])
    hits = graph.search("ratings")
    assert [h.node.uri for h in hits][:2] == [DS, "rg://dataset/movielens/movies"]
    assert hits[0].score > hits[1].score
    assert [h.node.uri for h in graph.search("genre user")] == [FEAT]
    assert next(h.node.uri for h in graph.search("genr")) in {FEAT, "rg://dataset/movielens/movies"}
    assert {h.node.uri for h in graph.search("movielens", kind="dataset")} == {
        DS, "rg://dataset/movielens/movies"}
    assert [h.node.uri for h in graph.search("click", domain="ads")] == ["rg://model/ads/ctr"]
    assert graph.search("click", domain="personalization") == []
    assert [h.node.uri for h in graph.search("genre", owner="ml-personalization")] == [FEAT]
    assert [h.node.uri for h in graph.search("movielens", tag="movielens", limit=1)] == [DS]
    with pytest.raises(InvalidInput, match="no words"):
        graph.search("  --- ")


def test_search_as_of_and_after_delete(graph: Graph) -> None:
    graph.add(DS, description="first description mentions popcorn")
    t = now_us()
    graph.add(DS, description="second description mentions lasers")
    assert [h.node.uri for h in graph.search("lasers")] == [DS]
    assert graph.search("popcorn") == []
    assert [h.node.uri for h in graph.search("popcorn", as_of=t)] == [DS]
    graph.delete(DS)
    assert graph.search("lasers") == []


def test_history_is_a_change_feed(graph: Graph) -> None:
    graph.add(DS, properties={"v": 1})
    graph.add(FEAT)
    first = graph.changes(0)
    assert [n.uri for _, n in first] == [DS, FEAT]
    cursor = first[-1][0]
    assert graph.changes(cursor) == []
    graph.add(DS, properties={"v": 2})
    graph.delete(FEAT)
    later = graph.changes(cursor)
    assert [(n.uri, n.revision, n.deleted) for _, n in later] == [(DS, 2, False), (FEAT, 2, True)]
    assert [n.uri for _, n in graph.changes(cursor, kinds=["dataset"])] == [DS]
