"""Bodies of the feature store API. Vectors are lists of floats; times are microseconds since
the Unix epoch (UTC)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reelgraph.api.schemas.times import Timed

FEATURE = "movielens/genres"
VERSION = "3f2a9c81d0e4"


class VersionOut(Timed):
    version: str = Field(examples=[VERSION])
    uri: str = Field(examples=[f"rg://embedding/{FEATURE}@{VERSION}"])
    registered_at: int = Field(description="when this version's node was last written")


class FeatureOut(BaseModel):
    namespace: str = Field(examples=["movielens"])
    name: str = Field(examples=["genres"])
    kind: str = Field(examples=["embedding"], description="feature or embedding (vectors)")
    uri: str = Field(description="the shown version's URI")
    version: str = Field(examples=[VERSION], description="the shown version (default: the "
                         "server's loaded definition, else the newest registered)")
    description: str
    entity: str = Field(examples=["title"])
    value: dict[str, Any] = Field(examples=[{"kind": "vector", "dim": 4}])
    depends_on: list[str]
    params: dict[str, Any]
    replicate_to: list[str] = Field(examples=[["online", "vector"]])
    loaded: bool = Field(description="whether the server has this version's code (needed "
                         "to compute)")
    versions: list[VersionOut] = Field(description="every registered version, newest first")


class FeatureList(BaseModel):
    features: list[FeatureOut]


class OnlineValues(BaseModel):
    feature: str = Field(description="the version's URI")
    source: str = Field(examples=["online"], description="the replica read: online or vector")
    values: dict[str, Any] = Field(examples=[{"1": [1.0, 0.0, 1.0, 0.0]}])
    missing: list[str] = Field(description="keys with no stored value")


class NeighborQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    vector: list[float] | None = Field(None, description="the query vector (its dimension "
                                       "must be the feature's)", examples=[[1.0, 0.0, 1.0, 0.0]])
    key: str | int | None = Field(None, description="or an entity, to use its own vector "
                                  "(the entity itself is left out)")
    k: int = Field(10, description="how many neighbours, 1 to 1000")
    version: str | None = None


class Neighbor(BaseModel):
    key: str
    score: float = Field(description="cosine similarity")


class NeighborList(BaseModel):
    feature: str
    neighbors: list[Neighbor]


class ComputeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    entities: list[str | int] = Field(examples=[[1, 2, 3]], min_length=1)
    version: str | None = None
    include_values: bool = Field(True, description="return the values too")


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    entities: list[str | int] = Field(examples=[[1, 2, 3]], min_length=1)
    version: str | None = None


class RequestOut(BaseModel):
    feature: str
    queued: list[str] = Field(description="keys queued now (the rest are stored, being "
                                          "computed or queued already)")


class ComputeOut(BaseModel):
    feature: str
    reused: int = Field(description="keys already stored (memoized)")
    computed: list[str]
    waited: list[str] = Field(description="keys another caller computed meanwhile")
    failed: dict[str, str] = Field(description="key -> why")
    run_ids: list[str]
    values: dict[str, Any] | None


class ReplicaOut(BaseModel):
    replica: str
    ok: bool
    missing: int
    different: int
    extra: int
    sample_missing: list[str]
    sample_different: list[str]
    sample_extra: list[str]


class VerifyOut(BaseModel):
    feature: str
    ok: bool = Field(description="every replica equals the offline store (for sync: before "
                     "the repair)")
    replicas: dict[str, ReplicaOut]
