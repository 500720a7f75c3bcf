"""``reelgraph serve``: the REST API (``reelgraph.api``) under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from reelgraph.cli import render
from reelgraph.cli.session import session


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    access_log: Annotated[bool, typer.Option(
        help="Log every request (costs ~0.2 ms each).")] = False,
    workers: Annotated[int, typer.Option(
        min=1, help="Server processes (one Python process uses at most one core); each "
                    "loads the model and keeps its nearline answers fresh.")] = 1,
) -> None:
    """Serve the REST API (/api/v1/graph, /api/v1/recommend, ...), with docs at /docs."""
    import uvicorn  # deferred: a server stack is not needed by the other commands

    current = session(ctx)
    # The app factory reads Settings from the environment; hand it the global options.
    if current.home is not None:
        os.environ["REELGRAPH_HOME"] = str(current.home)
    if current.database_url is not None:
        os.environ["REELGRAPH_DATABASE_URL"] = current.database_url
    if current.online_url is not None:
        os.environ["REELGRAPH_ONLINE_URL"] = current.online_url
    settings = current.settings()  # fail here, in one red line, if the settings are wrong
    render.console().print(
        f"serving {render.hide_password(settings.metadata_url)} at "
        f"http://{host}:{port}/api/v1 (recommendations: POST /api/v1/recommend; docs: "
        f"http://{host}:{port}/docs)",
        markup=False,
    )
    uvicorn.run("reelgraph.api:create_app", factory=True, host=host, port=port,
                access_log=access_log, workers=workers)
