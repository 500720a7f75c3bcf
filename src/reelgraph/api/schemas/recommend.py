"""Bodies of the recommendation API: one request shape for every canvas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_QUERY = 500  # characters: a search box, not a document


class RecommendIn(BaseModel):
    # strict: `"item": true` is an error, not item 1.
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"canvas": "search", "query": "termnator", "user": "42", "k": 5},
        {"canvas": "related", "item": "1"},
        {"canvas": "category", "user": "42", "category": "Comedy", "k": 10},
        {"canvas": "notifications", "user": "42", "context": {"time": 1537000000}},
    ]})

    canvas: str = Field(description="related, category, search or notifications")
    user: str | int | None = Field(None, description="the user asking (category, search, "
                                   "notifications); an unknown one gets a cold-start answer")
    item: str | int | None = Field(None, description="the source item (related)")
    query: str | None = Field(None, max_length=MAX_QUERY,
                              description="what was typed (search); typos are fine")
    category: str | None = Field(None, description="the category (genre) of a category row")
    k: int = Field(10, description="how many items, 1 to 100")
    context: dict[str, Any] | None = Field(
        None, description="extra context: time (unix seconds; default the model's now)")


class ScoredItem(BaseModel):
    item: str
    score: float


class RecommendOut(BaseModel):
    canvas: str
    model_version: str = Field(examples=["personalization/unified-recommender@3"])
    cold_start: bool = Field(description="the user is new to the model: a generic answer")
    environment: str = Field(description="online or nearline: where the answer came from")
    computed_at: float | None = Field(description="nearline: when it was precomputed")
    fallback: str | None = Field(description="why a nearline canvas was scored online")
    items: list[ScoredItem]


class DeploymentOut(BaseModel):
    model: str
    stage: str
    version: int | None = Field(description="the version serving now; null before any")
    environments: dict[str, str] = Field(description="canvas -> online, nearline or batch")
    swaps: int = Field(description="versions swapped in since the server started")
    precomputed_at: float | None


class InteractionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"user": "42", "item": "1210"},
        {"user": "42", "item": "1210", "time": 1700000000, "event": "rating", "value": 4.5},
    ]})

    user: str | int = Field(description="who did it")
    item: str | int = Field(description="what they watched, rated, ...")
    time: float | None = Field(None, description="when (unix seconds); default now")
    event: str = Field("interaction", description="the kind of event")
    value: float | None = Field(None, description="e.g. a rating")


class InteractionOut(BaseModel):
    user: str
    item: str
    time: int
    event: str
    value: float | None


class TitlesOut(BaseModel):
    model_version: str = Field(examples=["personalization/unified-recommender@3"])
    titles: dict[str, str | None] = Field(
        description="item -> title in the serving model's catalog; null for an unknown item",
        examples=[{"1": "Toy Story (1995)"}])
