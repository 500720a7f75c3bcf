"""Where each canvas is hosted, and how: the serving configuration.

- ``online``: the model in the server process; each request is scored when it arrives,
  against the item side of the model in a nearest-neighbour index;
- ``nearline``: each user's (and category's, or item's) top items precomputed into the
  online store with a timestamp, recomputed on a schedule or when a new model version is
  swapped in, and served from the store while fresher than ``max_age_s``; a request the
  store cannot answer (a new user, a stale or missing entry) is scored online instead;
- ``batch``: every user scored offline to Parquet (``reelgraph recsys batch``), not served
  over the API.

Search takes free text, so it cannot be precomputed: it is always online.

A configuration is read from TOML (``$REELGRAPH_HOME/serving.toml`` when present)::

    model = "personalization/unified-recommender"
    stage = "production"
    max_age_s = 21600
    [environments]
    related = "online"
    category = "nearline"
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from reelgraph.core import InvalidInput, Settings, home_folder
from reelgraph.recsys import CANVAS_NAMES, MAX_K, MODEL, canvas

ONLINE, NEARLINE, BATCH = "online", "nearline", "batch"
ENVIRONMENTS = (ONLINE, NEARLINE, BATCH)
DEFAULT_ENVIRONMENTS = {"related": ONLINE, "search": ONLINE, "category": NEARLINE,
                        "notifications": NEARLINE}
FILE_NAME = "serving.toml"


@dataclass(frozen=True)
class ServingConfig:
    model: str = MODEL
    stage: str = "production"
    environments: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_ENVIRONMENTS))
    max_age_s: float = 6 * 3600.0  # nearline answers older than this are recomputed online
    nearline_k: int = MAX_K  # items stored per precomputed answer
    watch_s: float = 5.0  # how often the server looks for a new version in ``stage``
    online_store: str | None = None  # URL; default: the feature store's online store
    # Threads of PyTorch, BLAS and OpenMP in a serving process: a request's small matrix
    # products run fastest on one, and idle pool threads spin-wait after each product
    # (measured: 16 ms of CPU per 3 ms request with the default pools, 3.6 ms with one).
    compute_threads: int = 1

    def __post_init__(self) -> None:
        for name, where in self.environments.items():
            canvas(name)  # names the known canvases when it is not one
            if where not in ENVIRONMENTS:
                raise InvalidInput(f"canvas {name!r} has unknown environment {where!r}",
                                   f"use one of {', '.join(ENVIRONMENTS)}")
        if self.environments.get("search", ONLINE) != ONLINE:
            raise InvalidInput("search cannot be precomputed: its queries are free text",
                               'host it online (environments.search = "online")')
        if not 1 <= self.nearline_k <= MAX_K:
            raise InvalidInput(f"nearline_k={self.nearline_k} is out of range",
                               f"store 1 to {MAX_K} items per answer")
        if self.compute_threads < 1:
            raise InvalidInput(f"compute_threads={self.compute_threads} is not a thread count",
                               "use 1 (the default) or more")
        if self.max_age_s <= 0 or self.watch_s <= 0:
            raise InvalidInput("max_age_s and watch_s must be positive",
                               "give them in seconds, e.g. max_age_s = 21600")

    def environment(self, canvas_name: str) -> str:
        return self.environments.get(canvas(canvas_name).name, ONLINE)

    def canvases_in(self, environment: str) -> tuple[str, ...]:
        return tuple(c for c in CANVAS_NAMES if self.environment(c) == environment)

    def with_environments(self, **environments: str) -> ServingConfig:
        return replace(self, environments={**self.environments, **environments})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: str = "the configuration"
                     ) -> ServingConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"{origin} has unknown setting(s) {', '.join(unknown)}",
                               f"use only {', '.join(sorted(known))}")
        environments = {**DEFAULT_ENVIRONMENTS, **dict(data.get("environments", {}))}
        try:
            return cls(**{**data, "environments": environments})
        except TypeError as exc:
            raise InvalidInput(f"{origin} is malformed: {exc}",
                               "see reelgraph.serving.config for an example") from None

    @classmethod
    def load(cls, settings: Settings | None = None, path: Path | None = None) -> ServingConfig:
        """``path``, else ``$REELGRAPH_HOME/serving.toml`` if it exists, else defaults."""
        path = path or home_folder(settings, FILE_NAME)
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path} is not valid TOML ({exc})",
                               "fix the file or remove it to use the defaults") from None
        return cls.from_mapping(data, str(path))
