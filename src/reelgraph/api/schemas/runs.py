"""Bodies of the runs and events API. Times are microseconds since the Unix epoch (UTC)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from reelgraph.api.schemas.times import Timed

RUN_ID = "20261123T101500-3f2a9c"


class ArtifactOut(BaseModel):
    digest: str = Field(description="sha256 of the stored bytes")
    format: str = Field(examples=["parquet"])
    size: int
    type: str = Field(examples=["pyarrow.lib.Table"])


class TaskOut(Timed):
    step: str = Field(examples=["train"])
    index: int | None = Field(description="the element of a foreach step; null otherwise")
    status: str = Field(examples=["succeeded"], description="running, retrying, succeeded, "
                                                            "reused or failed")
    attempts: int
    started_at: int | None
    ended_at: int | None
    artifact: ArtifactOut | None
    reused_from: str | None = Field(description="the run whose result was reused")
    error: str | None
    reads: list[str] = Field(examples=[["rg://dataset/movielens/ratings"]])


class RunOut(Timed):
    id: str = Field(examples=[RUN_ID])
    flow: str = Field(examples=["popularity"])
    namespace: str = Field(examples=["personalization"])
    status: str = Field(examples=["succeeded"], description="running, succeeded or failed")
    params: dict[str, Any]
    code_hash: str
    git_commit: str
    seed: int
    executor: str = Field(examples=["local"])
    resume_of: str | None
    trigger: str | None = Field(examples=["event:42"], description="event:ID for a run "
                                                                   "a worker started")
    source: str | None = Field(description="the file that defines the flow")
    started_at: int
    ended_at: int | None
    error: str | None
    steps: dict[str, str] = Field(description="one status per step")


class RunList(BaseModel):
    runs: list[RunOut]


class RunDetail(RunOut):
    packages: dict[str, str]
    tasks: list[TaskOut]


class TaskLog(BaseModel):
    step: str
    index: int | None
    status: str
    attempts: int
    log: str = Field(description="what the task printed or logged")
    error: str | None
    traceback: str | None


class RunLogs(BaseModel):
    run: str = Field(examples=[RUN_ID])
    tasks: list[TaskLog]


class DeliveryOut(Timed):
    event_id: int
    flow: str = Field(examples=["personalization/popularity"])
    status: str = Field(description="running, retrying, succeeded or dead (dead-lettered)")
    attempts: int
    run_id: str | None = Field(description="the latest attempt's run")
    runs: list[str]
    worker: str
    next_at: int | None = Field(description="when a retrying delivery runs again")
    error: str | None = Field(description="why the latest run failed (the dead letter's reason)")
    updated_at: int


class EventOut(Timed):
    id: int
    key: str = Field(examples=["change:1234"])
    kind: str = Field(examples=["dataset"], description="dataset, media_asset or schedule")
    uri: str | None = Field(examples=["rg://dataset/movielens/ratings@2"])
    flow: str | None = Field(description="the flow a schedule tick is for")
    payload: dict[str, Any]
    created_at: int
    deliveries: list[DeliveryOut]


class EventList(BaseModel):
    events: list[EventOut]
