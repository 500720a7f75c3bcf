"""The investigation the graph exists for, end to end on both back-ends:

a model's metric dropped → which features feed it → which upstream dataset changed (as of
before and after the drop) and who owns it → which deployments, consumers and experiments
are affected.
"""

from __future__ import annotations

from reelgraph.graph import IMPACT_KINDS, Graph

RATINGS = "rg://dataset/movielens/ratings"
MOVIES = "rg://dataset/catalog/movies"
AFFINITY = "rg://feature/personalization/user-genre-affinity"
POPULARITY = "rg://feature/personalization/item-popularity"
RANKER = "rg://model/personalization/unified-ranker@3"
MONITOR = "rg://monitor/personalization/ranker-ndcg"
DEPLOYMENT = "rg://deployment/personalization/ranker-online"
HOMEPAGE = "rg://consumer/personalization/homepage"
NOTIFY = "rg://consumer/messaging/notifications"
EXPERIMENT = "rg://experiment/personalization/ab-77"


def _build(graph: Graph) -> None:
    with graph.batch(author="setup") as b:
        b.add(RATINGS, owner="data-eng", properties={"columns": ["userId", "movieId", "rating"]})
        b.add(MOVIES, owner="catalog-team", properties={"columns": ["movieId", "title", "genres"],
                                                         "sha256": "aa11"})
        b.add(AFFINITY, owner="personalization")
        b.add(POPULARITY, owner="personalization")
        b.add(RANKER, owner="personalization")
        b.add("rg://run/personalization/train-ranker-3")
        b.add("rg://experiment_cell/personalization/ab-77-treatment")
        b.add(EXPERIMENT, owner="experimentation")
        b.add(DEPLOYMENT, owner="serving")
        b.add(HOMEPAGE, owner="web")
        b.add(NOTIFY, owner="messaging")
        b.add(MONITOR, properties={"metric": "ndcg@10", "value": 0.31})
        b.link(AFFINITY, "derived_from", RATINGS)
        b.link(AFFINITY, "derived_from", MOVIES)
        b.link(POPULARITY, "derived_from", RATINGS)
        b.link(RANKER, "uses_feature", AFFINITY)
        b.link(RANKER, "uses_feature", POPULARITY)
        b.link(RANKER, "produced_by", "rg://run/personalization/train-ranker-3")
        b.link("rg://run/personalization/train-ranker-3", "part_of",
               "rg://experiment_cell/personalization/ab-77-treatment")
        b.link("rg://experiment_cell/personalization/ab-77-treatment", "part_of", EXPERIMENT)
        b.link(RANKER, "deployed_as", DEPLOYMENT)
        b.link(DEPLOYMENT, "consumed_by", HOMEPAGE)
        b.link(DEPLOYMENT, "consumed_by", NOTIFY)
        b.link(MONITOR, "monitors", RANKER)
    graph.derive()
    # Upstream, the catalog team changes the movies table's schema...
    graph.add(MOVIES, owner="catalog-team", properties={
        "columns": ["movieId", "title", "genre_ids"], "sha256": "bb22"})
    # ...and the monitor records the drop.
    graph.add(MONITOR, properties={"metric": "ndcg@10", "value": 0.22})


def test_metric_drop_investigation(graph: Graph) -> None:
    _build(graph)

    # 1. The metric dropped: the monitor's history says when.
    history = graph.history(MONITOR)
    good, bad = history[-2], history[-1]
    assert (good.properties["value"], bad.properties["value"]) == (0.31, 0.22)
    before, after = good.valid_from, bad.valid_from

    # 2. Which features feed the model.
    upstream = graph.lineage(RANKER, "upstream")
    assert {n.uri for n in upstream.of_kind("feature")} == {AFFINITY, POPULARITY}

    # 3. Which upstream dataset changed between before and after, and who owns it.
    changed = [
        d for d in upstream.of_kind("dataset")
        if graph.show(d.uri, as_of=before).properties != graph.show(d.uri, as_of=after).properties
    ]
    assert [(d.uri, d.owner) for d in changed] == [(MOVIES, "catalog-team")]
    was = graph.show(MOVIES, as_of=before).properties["columns"]
    now = graph.show(MOVIES, as_of=after).properties["columns"]
    assert set(was) - set(now) == {"genres"}

    # 4. Who is affected downstream of the changed dataset.
    hit = graph.impact(MOVIES)
    affected = {(n.key.kind, n.uri, n.owner) for n in hit.of_kind(*IMPACT_KINDS)}
    assert affected == {
        ("deployment", DEPLOYMENT, "serving"),
        ("consumer", HOMEPAGE, "web"),
        ("consumer", NOTIFY, "messaging"),
        ("experiment", EXPERIMENT, "experimentation"),
        ("monitor", MONITOR, ""),
    }
    # The path from the cause to a user-facing consumer reads as the story.
    chain = [n.uri for n, _ in graph.path(MOVIES, NOTIFY)]
    assert chain == [MOVIES, AFFINITY, RANKER, DEPLOYMENT, NOTIFY]
    # Popularity does not read movies, so it is not in the impact.
    assert POPULARITY not in {n.uri for n in hit.nodes.values()}
