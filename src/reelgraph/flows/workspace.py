"""The one handle: settings, the metadata database, and the graph, run records and artifacts
kept in it, opened once from ``Settings``. Every service takes a workspace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reelgraph.artifacts import ArtifactStore
from reelgraph.core import Database, Settings
from reelgraph.flows.runs import RunStore
from reelgraph.graph import Graph


@dataclass
class Workspace:
    """The one handle: settings, the metadata database, and the graph, runs and artifacts in it."""
    settings: Settings
    database: Database
    graph: Graph
    runs: RunStore
    artifacts: ArtifactStore

    @classmethod
    def open(cls, settings: Settings | None = None) -> Workspace:
        settings = settings or Settings.load()
        database = Database.open(settings.metadata_url)
        return cls(settings, database, Graph.open(database), RunStore(database),
                   ArtifactStore(settings.artifacts))

    def load(self, run_id: str, step: str, index: int | None = None) -> Any:
        """The value a step of an earlier run stored (one element of a foreach by index)."""
        return self.artifacts.get(self.runs.artifact(run_id, step, index))

    def close(self) -> None:
        self.graph.close()
        self.runs.close()
        self.database.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
