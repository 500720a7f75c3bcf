"""Models that share inputs across domains, and reuse candidates."""

from __future__ import annotations

import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.graph import Graph

RATINGS = "rg://dataset/movielens/ratings"
MOVIES = "rg://dataset/movielens/movies"
EVENTS = "rg://dataset/platform/play-events"
AFFINITY = "rg://feature/personalization/user-genre-affinity"
TITLE_EMB = "rg://embedding/studio/title-text-embedding"
SHOT_EMB = "rg://embedding/studio/shot-embedding"
RANKER = "rg://model/personalization/unified-ranker@2"
TAGGER = "rg://model/studio/genre-tagger@1"
CTR = "rg://model/ads/ctr@1"


@pytest.fixture
def zoo(graph: Graph) -> Graph:
    with graph.batch() as b:
        for uri in (RATINGS, MOVIES, EVENTS, AFFINITY, TITLE_EMB, SHOT_EMB):
            b.add(uri)
        b.add("rg://feature/ads/campaign-ctr")
        b.add(RANKER)
        b.add("rg://model/personalization/unified-ranker@1")
        b.add(TAGGER)
        b.add(CTR)
        b.link(AFFINITY, "derived_from", RATINGS)
        b.link(AFFINITY, "derived_from", MOVIES)
        b.link(TITLE_EMB, "derived_from", MOVIES)
        b.link("rg://feature/ads/campaign-ctr", "derived_from", EVENTS)
        b.link(RANKER, "uses_feature", AFFINITY)
        b.link(RANKER, "trained_on", RATINGS)
        b.link(RANKER, "trained_on", EVENTS)
        b.link("rg://model/personalization/unified-ranker@1", "uses_feature", AFFINITY)
        b.link(TAGGER, "uses_feature", TITLE_EMB)
        b.link(TAGGER, "uses_feature", SHOT_EMB)
        b.link(TAGGER, "trained_on", MOVIES)
        b.link(TAGGER, "trained_on", RATINGS)
        b.link(CTR, "uses_feature", "rg://feature/ads/campaign-ctr")
    return graph


def test_similar_models_across_domains(zoo: Graph) -> None:
    similar = zoo.similar(RANKER)
    uris = [s.model.uri for s in similar]
    # The ranker's own earlier version is its family, not a peer.
    assert "rg://model/personalization/unified-ranker@1" not in uris
    assert uris == [TAGGER, CTR]
    tagger, ctr = similar
    assert 0 < ctr.score < tagger.score <= 1
    assert [n.uri for n in tagger.shared] == [RATINGS, MOVIES]  # heaviest first
    assert {n.uri for n in ctr.shared} == {EVENTS}


def test_similarity_is_symmetric(zoo: Graph) -> None:
    forward = {s.model.uri: s.score for s in zoo.similar(RANKER)}[TAGGER]
    backward = {s.model.uri: s.score for s in zoo.similar(TAGGER)}[RANKER]
    assert forward == pytest.approx(backward, rel=0.35)  # idf populations differ slightly


def test_reuse_candidates_come_from_other_domains(zoo: Graph) -> None:
    candidates = zoo.reuse_candidates(RANKER)
    # The most similar model's inputs come first; the weakly similar ads model's last.
    assert [c.input.uri for c in candidates] == [SHOT_EMB, TITLE_EMB,
                                                 "rg://feature/ads/campaign-ctr"]
    assert [c.used_by.uri for c in candidates] == [TAGGER, TAGGER, CTR]
    between = (candidates[0].similarity + candidates[-1].similarity) / 2
    assert [c.input.uri for c in zoo.reuse_candidates(RANKER, min_similarity=between)] == [
        SHOT_EMB, TITLE_EMB]
    zoo.link(RANKER, "uses_feature", TITLE_EMB)
    assert TITLE_EMB not in {c.input.uri for c in zoo.reuse_candidates(RANKER)}


def test_similar_needs_a_model(zoo: Graph) -> None:
    with pytest.raises(InvalidInput, match="not a model"):
        zoo.similar(RATINGS)
    assert zoo.similar("rg://model/personalization/unified-ranker@1")[0].model.uri == TAGGER
