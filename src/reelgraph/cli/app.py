"""The root ``reelgraph`` command: global options, the command groups, and error handling."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup, TyperOption

from reelgraph.cli import (
    demo,
    features,
    graph,
    matchcut,
    media,
    models,
    ops,
    recsys,
    render,
    runs,
    serve,
)
from reelgraph.cli.session import Session
from reelgraph.core import InvalidInput, ReelgraphError


def _flags_take_no_type() -> None:
    """Typer 0.29's rich help prints a type (``<bool>``) beside every flag, as if ``--json``
    took a value; a flag takes none, so it shows none (its plain help already does this)."""
    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag or self.count else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_take_no_type()


def _usage_error(exc: UsageError) -> typer.Exit:
    """A usage mistake (unknown option, missing argument, bad value) as the README promises:
    one red line ``error: ... Fix: ...``, exit code 1, not a box with exit code 2."""
    path = exc.ctx.command_path if exc.ctx is not None else "reelgraph"
    render.error(InvalidInput(exc.format_message().rstrip("."),
                              f"see `{path} --help` for its arguments and options"))
    return typer.Exit(1)


class ReelgraphGroup(TyperGroup):
    """Turns a ``ReelgraphError`` or a usage error from any command into one red line and
    exit code 1."""

    # ``Any``: Typer vendors its own click, whose Context class is private.
    def make_context(self, info_name: str | None, args: list[str], parent: Any = None,
                     **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            raise _usage_error(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ReelgraphError as exc:
            render.error(exc)
            raise typer.Exit(1) from None
        except NoArgsIsHelpError:
            raise
        except UsageError as exc:
            raise _usage_error(exc) from None


app = typer.Typer(
    name="reelgraph",
    cls=ReelgraphGroup,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="reelgraph: one model lifecycle graph for datasets, features, models, runs, "
    "deployments, media and incidents.",
)
app.add_typer(graph.app, name="graph")
app.add_typer(models.app, name="models")
app.command()(demo.demo)
app.command()(serve.serve)
app.command()(runs.run)
app.add_typer(runs.runs_app, name="runs")
app.command()(runs.worker)
app.add_typer(runs.events_app, name="events")
app.add_typer(features.app, name="features")
app.add_typer(media.app, name="media")
app.add_typer(matchcut.app, name="matchcut")
app.add_typer(recsys.app, name="recsys")
app.add_typer(ops.app, name="ops")


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option("--home", envvar="REELGRAPH_HOME",
                     help="Home folder (SQLite graph, config). Default: ~/.reelgraph."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="REELGRAPH_DATABASE_URL",
                     help="Metadata database, e.g. postgresql://user@host/db. "
                          "Default: SQLite under the home folder."),
    ] = None,
    online_url: Annotated[
        str | None,
        typer.Option("--online-url", envvar="REELGRAPH_ONLINE_URL",
                     help="Online feature store, e.g. redis://host:6379/0. "
                          "Default: SQLite under the home folder."),
    ] = None,
) -> None:
    ctx.obj = Session(home=home, database_url=database_url or None,
                      online_url=online_url or None)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="reelgraph")
