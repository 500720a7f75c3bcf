"""``reelgraph features``: list, show, get, neighbors, compute, request, serve, verify, sync,
compact.

Feature definitions are Python files (``--file FEATURES.py``, repeatable) defining
``FeatureSet``s; a command given files registers their features first. Reads (list, show,
get, neighbors, verify, sync, request) work from what is stored without the file; ``compute``
and ``serve`` need it. ``reelgraph.features`` is imported inside the commands, keeping
``import reelgraph.cli`` light.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from reelgraph.cli import render
from reelgraph.cli.session import session
from reelgraph.core import InvalidInput, ReelgraphError

if TYPE_CHECKING:
    from reelgraph.features import FeatureCatalog, VerifyReport

app = typer.Typer(no_args_is_help=True, help="Features and embeddings: definitions, stored "
                                             "values, nearest neighbours, compute, replicas.")

Files = Annotated[list[Path] | None, typer.Option(
    "--file", "-f", help="A .py file defining FeatureSets (repeatable); registers them.")]
Name = Annotated[str, typer.Argument(
    help="A feature: NAMESPACE/NAME[@VERSION] or its URI rg://feature/NS/NAME@VERSION.")]
VersionOpt = Annotated[str | None, typer.Option(
    "--version", help="A version (default: the file's definition, else the newest).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Keys = Annotated[list[str], typer.Argument(help="Entity keys.")]


class ReplicasDiffer(ReelgraphError):
    """``verify`` found a replica that differs from the offline store."""


@contextmanager
def _catalog(ctx: typer.Context, files: list[Path] | None) -> Iterator[FeatureCatalog]:
    from reelgraph.features import FeatureCatalog
    from reelgraph.flows import Workspace

    ws = Workspace.open(session(ctx).settings())
    try:
        catalog = FeatureCatalog.open(ws, files or [])
        try:
            yield catalog
        finally:
            catalog.close()
    finally:
        ws.close()


def _value_text(value: Any) -> str:
    from reelgraph.features import jsonable

    value = jsonable(value)
    if isinstance(value, list) and all(isinstance(x, float) for x in value):
        shown = ", ".join(f"{x:.4g}" for x in value[:8])
        return f"[{shown}{', ...' if len(value) > 8 else ''}] ({len(value)})"
    return escape(value if isinstance(value, str) else json.dumps(value))


def _value_type(value: dict[str, Any]) -> str:
    """``vector[384]`` for vectors; the scalar's type (``string``, ``int64``) otherwise."""
    if value.get("kind") == "vector":
        return f"vector[{value.get('dim')}]"
    return " ".join(str(v) for k, v in value.items() if k != "kind") or str(value.get("kind"))


def _params(params: dict[str, Any]) -> str:
    """Parameters as written in the definition: the catalog keeps each value's repr (its
    version hashes them), shown here as the value itself, not quoted twice."""
    shown = {}
    for name, value in params.items():
        try:
            shown[name] = ast.literal_eval(value) if isinstance(value, str) else value
        except (ValueError, SyntaxError):
            shown[name] = value
    return json.dumps(shown, default=str)


@app.command("list")
def list_features(
    ctx: typer.Context,
    file: Files = None,
    namespace: Annotated[str | None, typer.Option(help="Only this namespace.")] = None,
    as_json: AsJson = False,
) -> None:
    """Registered features and embeddings, with their newest version."""
    with _catalog(ctx, file) as catalog:
        found = catalog.features(namespace)
    if as_json:
        render.echo_json(found)
        return
    if not found:
        render.console().print("no features registered yet: "
                               "`reelgraph features list --file FEATURES.py` registers a file's")
        return
    table = Table("feature", "kind", "entity", "value", "version", "versions", "replicas",
                  "loaded", show_edge=False)
    for f in found:
        table.add_row(f"{f['namespace']}/{f['name']}", render.kind(f["kind"]),
                      escape(f["entity"]), escape(_value_type(f["value"])), f["version"],
                      str(len(f["versions"])), ", ".join(f["replicate_to"]) or "-",
                      "yes" if f["loaded"] else "no")
    render.console().print(render.keep_whole(table, "feature", "kind", "value", "version"))


@app.command()
def show(ctx: typer.Context, name: Name, version: VersionOpt = None, file: Files = None,
         as_json: AsJson = False) -> None:
    """One feature version: entity, value type, dependencies, replicas and every version."""
    with _catalog(ctx, file) as catalog:
        info = catalog.describe(catalog.resolve(name, version))
    if as_json:
        render.echo_json(info)
        return
    out = render.console()
    fields = Table.grid(padding=(0, 2))
    for label, value in (
        ("uri", info["uri"]), ("kind", render.kind(info["kind"])),
        ("description", escape(info["description"] or "-")),
        ("entity", escape(info["entity"])), ("value", escape(json.dumps(info["value"]))),
        ("depends on", escape(", ".join(info["depends_on"]) or "-")),
        ("params", escape(_params(info["params"]))),
        ("replicas", ", ".join(info["replicate_to"]) or "-"),
        ("code loaded", "yes" if info["loaded"] else "no (pass --file to compute)"),
    ):
        fields.add_row(f"[bold]{label}[/]", value)
    out.print(fields)
    versions = Table("version", "registered", "uri", show_edge=False, title="versions",
                     title_justify="left")
    for v in info["versions"]:
        versions.add_row(v["version"], render.when(v["registered_at"]), v["uri"])
    out.print(render.keep_whole(versions, "version", "uri"))


@app.command()
def get(ctx: typer.Context, name: Name, keys: Keys, version: VersionOpt = None,
        file: Files = None, as_json: AsJson = False) -> None:
    """Latest values of entities: from the online replica, the vector index, or the offline
    store for a feature kept offline only."""
    from reelgraph.features import jsonable

    with _catalog(ctx, file) as catalog:
        feature = catalog.resolve(name, version)
        source, values = catalog.latest(feature, keys)
        wanted = feature.keys(keys)
    missing = [k for k in wanted if k not in values]
    if as_json:
        render.echo_json({"feature": feature.ref.uri, "source": source,
                          "values": {k: jsonable(v) for k, v in values.items()},
                          "missing": missing})
        return
    table = Table("key", "value", show_edge=False, title=f"{feature.ref.uri} ({source})",
                  title_justify="left")
    for key in wanted:
        table.add_row(escape(key), _value_text(values[key]) if key in values
                      else "[dim]missing[/]")
    render.console().print(table)


def _vector(text: str) -> list[float]:
    try:
        return [float(x) for x in text.replace(",", " ").split()]
    except ValueError:
        raise InvalidInput(f"--vector {text!r} is not a list of numbers",
                           "write it as --vector '0.1,0.2,0.3'") from None


@app.command()
def neighbors(
    ctx: typer.Context,
    name: Name,
    key: Annotated[str | None, typer.Option(
        "--key", help="An entity whose own vector is the query.")] = None,
    vector: Annotated[str | None, typer.Option(
        "--vector", help="A query vector, comma-separated.")] = None,
    k: Annotated[int, typer.Option("-k", help="How many neighbours (1 to 1000).")] = 10,
    version: VersionOpt = None,
    file: Files = None,
    as_json: AsJson = False,
) -> None:
    """Nearest entities by cosine similarity, from the vector index."""
    query = _vector(vector) if vector is not None else None
    with _catalog(ctx, file) as catalog:
        feature = catalog.resolve(name, version)
        hits = catalog.neighbors(feature, k, vector=query, key=key)
    if as_json:
        render.echo_json({"feature": feature.ref.uri,
                          "neighbors": [{"key": h, "score": s} for h, s in hits]})
        return
    title = f"nearest to {'entity ' + key if key is not None else 'the vector'} in " \
            f"{feature.ref.uri}"
    table = Table("rank", "key", "score", show_edge=False, title=escape(title),
                  title_justify="left")
    for rank, (hit, score) in enumerate(hits, 1):
        table.add_row(str(rank), escape(hit), f"{score:.4f}")
    render.console().print(table)


@app.command()
def compute(
    ctx: typer.Context,
    name: Name,
    keys: Annotated[list[str] | None, typer.Argument(help="Entity keys to compute.")] = None,
    file: Files = None,
    backfill: Annotated[bool, typer.Option(
        "--all", help="Every entity of this type that any registered feature has.")] = False,
    batch_size: Annotated[int, typer.Option(
        min=1, help="Entities per progress step (and per compute batch).")] = 256,
    as_json: AsJson = False,
) -> None:
    """Values of entities, computing only the missing ones (memoized), with a progress bar."""
    from reelgraph.features import ComputeReport

    if not file:
        raise InvalidInput("computing needs the feature's code",
                           "pass the file defining it: --file FEATURES.py")
    if bool(keys) == backfill:
        raise InvalidInput("give entity keys or --all, not both or neither",
                           "e.g. `reelgraph features compute NS/NAME 1 2 3 --file F.py`")
    with _catalog(ctx, file) as catalog:
        feature = catalog.resolve(name)
        definition = catalog.definition(feature)
        wanted = (feature.keys(keys or []) if keys
                  else sorted(catalog.store.known_entities(definition.entity.name)))
        total = ComputeReport(definition.uri)
        progress = render.progress()
        with progress:
            bar = progress.add_task(f"computing {definition.name}", total=len(wanted))
            for start in range(0, len(wanted), batch_size):
                chunk = wanted[start:start + batch_size]
                report = catalog.store.get_or_compute(definition, chunk, batch_size)
                total.values.update(report.values)
                total.reused += report.reused
                total.computed += report.computed
                total.waited += report.waited
                total.failed.update(report.failed)
                total.run_ids += report.run_ids
                progress.advance(bar, len(chunk))
    _compute_report(total, as_json)


@app.command()
def request(ctx: typer.Context, name: Name, keys: Keys, version: VersionOpt = None,
            file: Files = None, as_json: AsJson = False) -> None:
    """Queue the missing values for `reelgraph features serve` and return at once."""
    with _catalog(ctx, file) as catalog:
        feature = catalog.resolve(name, version)
        queued = catalog.store.request(feature.ref, feature.keys(keys))
    if as_json:
        render.echo_json({"feature": feature.ref.uri, "queued": queued})
        return
    render.console().print(f"{feature.ref.uri}: {len(queued)} queued "
                           f"({len(keys) - len(queued)} stored, computing or queued already)")


@app.command()
def serve(
    ctx: typer.Context,
    file: Annotated[list[Path], typer.Option(
        "--file", "-f", help="A .py file defining FeatureSets (repeatable); serves their "
                             "features.")],
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between passes.")] = 1.0,
) -> None:
    """Compute queued requests as they arrive (a worker; Ctrl-C stops it)."""
    import time

    out = render.console()
    with _catalog(ctx, file) as catalog:
        try:
            while True:
                for report in catalog.store.serve_requests():
                    out.print(f"{report.feature}: {len(report.computed)} computed, "
                              f"{len(report.failed)} failed", soft_wrap=True)
                if once:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            out.print("stopped")


def _compute_report(report: Any, as_json: bool) -> None:
    if as_json:
        render.echo_json({"feature": report.feature, "reused": report.reused,
                          "computed": report.computed, "waited": report.waited,
                          "failed": report.failed, "run_ids": report.run_ids})
    else:
        out = render.console()
        out.print(f"{report.feature}: [green]{len(report.computed)} computed[/], "
                  f"{report.reused} reused, {len(report.waited)} computed by another caller, "
                  f"[{'red' if report.failed else 'green'}]{len(report.failed)} failed[/]",
                  soft_wrap=True)
        if report.run_ids:
            out.print(f"runs: {', '.join(report.run_ids)}", soft_wrap=True)
        if report.failed:
            table = Table("key", "error", show_edge=False, title="failed",
                          title_justify="left")
            for key, error in sorted(report.failed.items())[:20]:
                table.add_row(escape(key), escape(error.strip().splitlines()[-1][:120]))
            out.print(table)
    if report.failed:
        raise ReelgraphError(f"{len(report.failed)} entities of {report.feature} failed",
                             "see the errors above and the run logs (`reelgraph runs logs "
                             "RUN`); fix the cause and compute again")


def _replica_table(report: VerifyReport, repaired: bool) -> Table:
    table = Table("replica", "state", "missing", "different", "extra", "examples",
                  show_edge=False, title=report.feature, title_justify="left")
    for name, r in report.replicas.items():
        state = "[green]in sync[/]" if r.ok else (
            "[yellow]repaired[/]" if repaired else "[red]differs[/]")
        examples = ", ".join(r.sample_missing + r.sample_different + r.sample_extra)[:60]
        table.add_row(name, state, str(r.missing), str(r.different), str(r.extra),
                      escape(examples))
    return table


@app.command()
def verify(ctx: typer.Context, name: Name, version: VersionOpt = None, file: Files = None,
           as_json: AsJson = False) -> None:
    """Compare each replica with the offline store; exit 1 when one differs."""
    with _catalog(ctx, file) as catalog:
        feature = catalog.resolve(name, version)
        report = catalog.verify(feature)
    if as_json:
        render.echo_json(report.to_dict())
    else:
        render.console().print(_replica_table(report, repaired=False))
    if not report.ok:
        raise ReplicasDiffer(f"a replica of {report.feature} differs from the offline store",
                             f"repair it with `reelgraph features sync {feature.ref.namespace}/"
                             f"{feature.ref.name}@{feature.ref.version}`")


@app.command()
def sync(ctx: typer.Context, name: Name, version: VersionOpt = None, file: Files = None,
         as_json: AsJson = False) -> None:
    """Make each replica equal to the offline store; shows what it repaired."""
    with _catalog(ctx, file) as catalog:
        report = catalog.sync(catalog.resolve(name, version))
    if as_json:
        render.echo_json(report.to_dict())
        return
    render.console().print(_replica_table(report, repaired=True))


@app.command()
def compact(ctx: typer.Context, name: Name, version: VersionOpt = None, file: Files = None,
            as_json: AsJson = False) -> None:
    """Merge a feature's offline Parquet files into one (a write also does, past a number
    of files); every read answers the same before and after."""
    with _catalog(ctx, file) as catalog:
        feature = catalog.resolve(name, version)
        with render.console(stderr=True).status(f"compacting {feature.ref.uri}"):
            done = catalog.compact(feature)
    if as_json:
        render.echo_json({"feature": feature.ref.uri, **dataclasses.asdict(done)})
        return
    render.console().print(f"{feature.ref.uri}: Parquet files {done.files_before} -> "
                           f"{done.files_after} ({done.rows} rows merged)")
