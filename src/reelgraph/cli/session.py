"""The CLI's session: the global options, turned into ``Settings`` and an open ``Graph``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer

from reelgraph.core.settings import Settings
from reelgraph.graph import Graph


@dataclass(frozen=True)
class Session:
    home: Path | None = None
    database_url: str | None = None

    def settings(self) -> Settings:
        return Settings.load(home=self.home, database_url=self.database_url)

    @contextmanager
    def graph(self) -> Iterator[Graph]:
        graph = Graph.open(settings=self.settings())
        try:
            yield graph
        finally:
            graph.close()


def session(ctx: typer.Context) -> Session:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Session) else Session()
