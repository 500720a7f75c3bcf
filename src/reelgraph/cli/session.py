"""The CLI's session: the global options, turned into ``Settings`` and an open ``Graph``."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from reelgraph.core import Settings
from reelgraph.graph import Graph

if TYPE_CHECKING:
    from reelgraph.flows import Workspace


@dataclass(frozen=True)
class Session:
    home: Path | None = None
    database_url: str | None = None
    online_url: str | None = None

    def settings(self) -> Settings:
        return Settings.load(home=self.home, database_url=self.database_url,
                             online_url=self.online_url)

    @contextmanager
    def workspace(self) -> Iterator[Workspace]:
        from reelgraph.flows import Workspace  # deferred: keeps `import reelgraph.cli` light

        with Workspace.open(self.settings()) as ws:
            yield ws

    @contextmanager
    def graph(self) -> Iterator[Graph]:
        graph = Graph.open(self.settings().metadata_url)
        try:
            yield graph
        finally:
            graph.close()


def current_user() -> str:
    """The user running the command, as recorded in audits."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in containers without a passwd entry
        return "unknown"


def session(ctx: typer.Context) -> Session:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Session) else Session()
