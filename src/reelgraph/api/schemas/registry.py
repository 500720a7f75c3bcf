"""Bodies of the registry API. Times are microseconds since the Unix epoch (UTC)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reelgraph.api.schemas.times import Timed

MODEL = "personalization/popularity"
Stage = Literal["none", "staging", "production", "archived"]
GatedStage = Literal["staging", "production"]


class _In(BaseModel):
    # A misspelt field is an error, not silently ignored; strict: `true` is not the number 1.
    model_config = ConfigDict(extra="forbid", strict=True)


class RegisterIn(_In):
    run_id: str = Field(description="a run that succeeded", examples=["20261123T101500-a1b2c3"])
    step: str = Field("model", description="the step whose stored value is the model")
    metrics: dict[str, float] = Field(default_factory=dict, examples=[{"ndcg@10": 0.25}])
    signature: dict[str, Any] = Field(
        default_factory=dict, description="inputs and outputs, as JSON",
        examples=[{"inputs": {"user_id": "int"}, "outputs": {"items": "list[int]"}}])
    description: str = ""
    owner: str = Field("", examples=["perso-team"])
    who: str = Field("api", description="recorded as the version's creator")


class PromoteIn(_In):
    stage: Stage = Field(examples=["production"])
    who: str = Field(min_length=1, description="who moves it (in the audit)", examples=["ana"])
    why: str = Field("", examples=["won the A/B test"])


class GateIn(_In):
    stage: GatedStage = "production"
    gate: dict[str, Any] = Field(
        description="kind (metric_at_least, metric_at_most: metric, threshold; "
                    "metric_not_worse: metric, margin, higher_is_better)",
        examples=[{"kind": "metric_not_worse", "metric": "ndcg@10", "margin": 0.01}])
    who: str = "api"


class SubscribeIn(_In):
    consumer: str = Field(description="NAMESPACE/NAME", examples=["messaging/notifications"])
    owner: str = Field("", examples=["messaging-team"])
    who: str = "api"


class ArtifactOut(BaseModel):
    digest: str
    format: str
    size: int
    type: str


class VersionOut(Timed):
    model: str = Field(examples=[MODEL])
    version: int = Field(examples=[3])
    uri: str = Field(examples=["rg://model/personalization/popularity@3"])
    stage: Stage
    run_id: str
    step: str
    artifact: ArtifactOut
    metrics: dict[str, float]
    signature: dict[str, Any]
    description: str
    owner: str
    created_by: str
    created_at: int


class ModelOut(Timed):
    name: str = Field(examples=[MODEL])
    description: str
    owner: str
    created_at: int
    latest: int | None = Field(description="the highest version number")
    production: int | None = Field(description="the version in production, if any")
    versions: list[VersionOut] = Field(description="oldest first; empty in lists")


class ModelList(BaseModel):
    models: list[ModelOut]


class GateResultOut(BaseModel):
    gate: str = Field(examples=["metric_not_worse:ndcg@10"])
    passed: bool
    detail: str = Field(examples=["ndcg@10 = 0.212 is worse than production v3's 0.25 by "
                                  "0.038, more than the margin 0.01"])


class TransitionOut(Timed):
    id: int
    model: str
    version: int
    from_stage: Stage
    to_stage: Stage
    outcome: Literal["applied", "refused"]
    who: str
    why: str
    at: int
    gates: list[GateResultOut]


class AuditOut(BaseModel):
    model: str
    transitions: list[TransitionOut] = Field(description="oldest first")


class GateOut(Timed):
    model: str
    stage: GatedStage
    name: str = Field(examples=["metric_not_worse:ndcg@10"])
    gate: dict[str, Any]
    created_by: str
    created_at: int


class GateList(BaseModel):
    model: str
    gates: list[GateOut]


class ConsumerOut(Timed):
    model: str
    consumer: str
    owner: str
    created_by: str
    created_at: int


class ConsumerList(BaseModel):
    model: str
    consumers: list[ConsumerOut]
