"""``reelgraph serve``: the REST API (``reelgraph.api``) and the web UI (``reelgraph.ui``)
under uvicorn."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Annotated

import typer

from reelgraph.cli import render
from reelgraph.cli.session import session
from reelgraph.core import InvalidInput


def check_port(host: str, port: int) -> None:
    """Refuse a port another process listens on, or one this host cannot bind."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as exc:
        raise InvalidInput(f"cannot listen on {host}:{port} ({exc.strerror or exc})",
                           f"stop what is using port {port} (a `reelgraph serve` already "
                           "running?) or pass another one with --port") from None


if TYPE_CHECKING:
    from fastapi import FastAPI


def web_app() -> FastAPI:
    """The server's application: the API with the UI mounted beside it (``uvicorn --factory
    reelgraph.cli.serve:web_app``). Composed here because the API must not know the UI."""
    from reelgraph.api import create_app
    from reelgraph.ui import mount

    return mount(create_app())


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
    """Serve the web UI at / and the REST API (/api/v1/graph, /api/v1/recommend, ...), with
    docs at /docs."""
    import uvicorn  # deferred: a server stack is not needed by the other commands

    current = session(ctx)
    settings = current.settings()  # fail here, in one red line, if the settings are wrong
    check_port(host, port)  # before loading anything: a busy port fails in one line
    # The app factory reads Settings from the environment; hand it the global options (only
    # now, when the server will run: a refused start leaves the environment as it was).
    if current.home is not None:
        os.environ["REELGRAPH_HOME"] = str(current.home)
    if current.database_url is not None:
        os.environ["REELGRAPH_DATABASE_URL"] = current.database_url
    if current.online_url is not None:
        os.environ["REELGRAPH_ONLINE_URL"] = current.online_url
    out = render.console()
    out.print(f"loading the graph at {render.hide_password(settings.metadata_url)} and the "
              "production recommender (if one is registered): the server answers once it "
              "is loaded", markup=False, soft_wrap=True)
    out.print(f"serving the web UI at http://{host}:{port}/ and the API at /api/v1 "
              f"(recommendations: POST /api/v1/recommend; docs: http://{host}:{port}/docs)",
              markup=False, soft_wrap=True)
    uvicorn.run("reelgraph.cli.serve:web_app", factory=True, host=host, port=port,
                access_log=access_log, workers=workers)
