"""The handles a run needs, opened once from ``Settings``: graph, run records, artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reelgraph.artifacts import ArtifactStore
from reelgraph.core import Settings
from reelgraph.flows.runs import RunStore
from reelgraph.graph import Graph


@dataclass
class Workspace:
    settings: Settings
    graph: Graph
    runs: RunStore
    artifacts: ArtifactStore

    @classmethod
    def open(cls, settings: Settings | None = None) -> Workspace:
        settings = settings or Settings.load()
        return cls(settings, Graph.open(settings=settings), RunStore(settings.metadata_url),
                   ArtifactStore(settings.artifacts))

    def load(self, run_id: str, step: str, index: int | None = None) -> Any:
        """The value a step of an earlier run stored (one element of a foreach by index)."""
        return self.artifacts.get(self.runs.artifact(run_id, step, index))

    def close(self) -> None:
        self.graph.close()
        self.runs.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
