"""What the demo declares on top of the measured datasets: two domains' features, models,
runs, an experiment, deployments, consumers and a monitor, with their lineage.

Personalization ranks the homepage from ratings; the studio tags titles with genres from
their text. Both read ``movies.csv`` and ``tags.csv``, and the studio model already reuses
personalization's tag embedding, so "models like this" connects them and the reuse
answer points personalization at the studio's title-text embedding.

Declared nodes carry ``declared_by: reelgraph demo``: they describe lineage, not results
(later issues compute the features and train the models for real).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reelgraph.graph import Batch

DATA_NAMESPACE = "movielens"
RELEASE = "ml-latest-small"

RANKER = "rg://model/personalization/homepage-ranker"
RANKER_V1 = f"{RANKER}@1"
RANKER_V2 = f"{RANKER}@2"
TAGGER = "rg://model/studio/genre-tagger"
TAGGER_V1 = f"{TAGGER}@1"
EXPERIMENT = "rg://experiment/personalization/homepage-ranker-ab"


def dataset_uri(file_name: str) -> str:
    return f"rg://dataset/{DATA_NAMESPACE}/{RELEASE}/{file_name}"


RATINGS = dataset_uri("ratings.csv")
MOVIES = dataset_uri("movies.csv")
TAGS = dataset_uri("tags.csv")

USER_GENRE = "rg://feature/personalization/user-genre-affinity"
ITEM_POPULARITY = "rg://feature/personalization/item-popularity"
TAG_EMBEDDING = "rg://embedding/personalization/item-tag-embedding"
TITLE_EMBEDDING = "rg://embedding/studio/title-text-embedding"


@dataclass(frozen=True)
class Declared:
    uri: str
    owner: str
    description: str
    tags: tuple[str, ...] = ()
    properties: dict[str, Any] = field(default_factory=dict)


NODES: tuple[Declared, ...] = (
    # personalization: features and the ranker family
    Declared(USER_GENRE, "personalization-ml", "Each user's mean-centred rating per genre.",
             ("user", "genre", "ratings"), {"entity": "user", "value_type": "float32[20]"}),
    Declared(ITEM_POPULARITY, "personalization-ml",
             "Each movie's rating count and Bayesian-average rating.",
             ("movie", "popularity"), {"entity": "movie", "value_type": "float32[2]"}),
    Declared(TAG_EMBEDDING, "personalization-ml",
             "Movie embedding from the free-text tags users applied to it.",
             ("movie", "tags", "embedding"), {"entity": "movie", "dimensions": 64}),
    Declared(RANKER, "personalization-ml",
             "The homepage-row ranker, declared as lineage only (not a registered model: "
             "the registry's models are puresvd-recommender and unified-recommender).",
             ("ranking", "homepage")),
    Declared(RANKER_V1, "personalization-ml", "First ranker: genre affinity and popularity.",
             ("ranking", "homepage"), {"objective": "rating regression"}),
    Declared(RANKER_V2, "personalization-ml", "Second ranker: adds the tag embedding.",
             ("ranking", "homepage"), {"objective": "rating regression"}),
    Declared("rg://run/personalization/homepage-ranker-train-1", "personalization-ml",
             "Training run that produced homepage-ranker@1.", ("training",),
             {"flow": "homepage-ranker-training"}),
    Declared("rg://run/personalization/homepage-ranker-train-2", "personalization-ml",
             "Training run that produced homepage-ranker@2.", ("training",),
             {"flow": "homepage-ranker-training"}),
    Declared(EXPERIMENT, "personalization-ml",
             "A/B test of ranker versions on the homepage.", ("ab-test", "homepage")),
    Declared("rg://experiment_cell/personalization/homepage-ranker-ab/control",
             "personalization-ml", "Control cell: homepage-ranker@1.", ("ab-test",)),
    Declared("rg://experiment_cell/personalization/homepage-ranker-ab/treatment",
             "personalization-ml", "Treatment cell: homepage-ranker@2.", ("ab-test",)),
    Declared("rg://deployment/personalization/homepage-ranker", "personalization-ml",
             "Online endpoint serving homepage-ranker@2.", ("online", "homepage"),
             {"environment": "online"}),
    Declared("rg://consumer/personalization/homepage-service", "homepage-eng",
             "The homepage service that orders rows with the ranker.", ("homepage",)),
    Declared("rg://monitor/personalization/homepage-ranker-drift", "personalization-ml",
             "Watches the homepage ranker's score distribution for drift.", ("drift",)),
    # studio: title embedding and the genre tagger family
    Declared(TITLE_EMBEDDING, "studio-ml",
             "Movie embedding from its title text and listed genres.",
             ("movie", "text", "embedding"), {"entity": "movie", "dimensions": 128}),
    Declared(TAGGER, "studio-ml", "Suggests genres for new titles.", ("genre", "catalog")),
    Declared(TAGGER_V1, "studio-ml", "Genre tagger over title text and user tags.",
             ("genre", "catalog"), {"objective": "multi-label genre classification"}),
    Declared("rg://run/studio/genre-tagger-train-1", "studio-ml",
             "Training run that produced genre-tagger@1.", ("training",),
             {"flow": "genre-tagger-training"}),
    Declared("rg://deployment/studio/genre-tagger-batch", "studio-ml",
             "Nightly batch job tagging newly ingested titles.", ("batch", "catalog"),
             {"environment": "offline-batch"}),
    Declared("rg://consumer/studio/catalog-metadata-service", "catalog-eng",
             "Catalog service that shows suggested genres to editors.", ("catalog",)),
)

_R1_RUN = "rg://run/personalization/homepage-ranker-train-1"
_R2_RUN = "rg://run/personalization/homepage-ranker-train-2"
_T1_RUN = "rg://run/studio/genre-tagger-train-1"
_CELLS = "rg://experiment_cell/personalization/homepage-ranker-ab"

EDGES: tuple[tuple[str, str, str], ...] = (
    # features from data
    (USER_GENRE, "derived_from", RATINGS),
    (USER_GENRE, "derived_from", MOVIES),
    (ITEM_POPULARITY, "derived_from", RATINGS),
    (TAG_EMBEDDING, "derived_from", TAGS),
    (TITLE_EMBEDDING, "derived_from", MOVIES),
    # personalization models
    (RANKER_V1, "version_of", RANKER),
    (RANKER_V1, "trained_on", RATINGS),
    (RANKER_V1, "uses_feature", USER_GENRE),
    (RANKER_V1, "uses_feature", ITEM_POPULARITY),
    (RANKER_V1, "produced_by", _R1_RUN),
    (_R1_RUN, "reads", RATINGS),
    (RANKER_V2, "version_of", RANKER),
    (RANKER_V2, "trained_on", RATINGS),
    (RANKER_V2, "trained_on", TAGS),
    (RANKER_V2, "uses_feature", USER_GENRE),
    (RANKER_V2, "uses_feature", ITEM_POPULARITY),
    (RANKER_V2, "uses_feature", TAG_EMBEDDING),
    (RANKER_V2, "produced_by", _R2_RUN),
    (_R2_RUN, "reads", RATINGS),
    (_R2_RUN, "reads", TAGS),
    (RANKER_V2, "deployed_as", "rg://deployment/personalization/homepage-ranker"),
    ("rg://deployment/personalization/homepage-ranker", "consumed_by",
     "rg://consumer/personalization/homepage-service"),
    ("rg://monitor/personalization/homepage-ranker-drift", "monitors",
     "rg://deployment/personalization/homepage-ranker"),
    # the experiment: runs in cells; derive() adds model --in_experiment--> experiment
    (_R1_RUN, "part_of", f"{_CELLS}/control"),
    (_R2_RUN, "part_of", f"{_CELLS}/treatment"),
    (f"{_CELLS}/control", "part_of", EXPERIMENT),
    (f"{_CELLS}/treatment", "part_of", EXPERIMENT),
    # studio model
    (TAGGER_V1, "version_of", TAGGER),
    (TAGGER_V1, "trained_on", MOVIES),
    (TAGGER_V1, "trained_on", TAGS),
    (TAGGER_V1, "uses_feature", TITLE_EMBEDDING),
    (TAGGER_V1, "uses_feature", TAG_EMBEDDING),
    (TAGGER_V1, "produced_by", _T1_RUN),
    (_T1_RUN, "reads", MOVIES),
    (_T1_RUN, "reads", TAGS),
    (TAGGER_V1, "deployed_as", "rg://deployment/studio/genre-tagger-batch"),
    ("rg://deployment/studio/genre-tagger-batch", "consumed_by",
     "rg://consumer/studio/catalog-metadata-service"),
)


def declare(batch: Batch) -> None:
    """Add the declared nodes and edges to ``batch``."""
    for node in NODES:
        batch.add(
            node.uri,
            owner=node.owner,
            description=node.description,
            tags=node.tags,
            properties={**node.properties, "declared_by": "reelgraph demo"},
        )
    for src, kind, dst in EDGES:
        batch.link(src, kind, dst)
