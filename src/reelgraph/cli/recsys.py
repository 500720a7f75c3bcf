"""``reelgraph recsys ...``: train, evaluate and ask the unified recommender.

``train`` runs the training flow (progress per step) and registers the model, optionally
promoting it; ``evaluate`` prints a version's per-canvas comparison with its single-task
twins and the baselines; ``recommend`` answers any canvas the way the API does (same
environments); ``precompute`` fills the nearline store; ``batch`` scores a canvas to Parquet;
``affinity`` measures which canvases gain from sharing one model and stores the answer on
the model version's graph node.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from reelgraph.cli import render
from reelgraph.cli.runs import flow_progress
from reelgraph.cli.session import current_user, session
from reelgraph.core import InvalidInput, NotFound

if TYPE_CHECKING:
    from reelgraph.flows.registry import ModelVersion
    from reelgraph.serving import RecommendationService

app = typer.Typer(no_args_is_help=True,
                  help="The unified recommender: train, evaluate, recommend, precompute, batch, "
                       "affinity.")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Version = Annotated[int | None, typer.Option(help="A version number (default: production).")]
MODELS = ("unified", "single_task", "popularity", "recent_popularity", "ease", "fuzzy")


@contextmanager
def _service(ctx: typer.Context) -> Iterator[RecommendationService]:
    from reelgraph.serving import RecommendationService

    with session(ctx).workspace() as ws:
        service = RecommendationService(ws)
        try:
            service.refresh(precompute=False)
            yield service
        finally:
            service.close()


def _default_data() -> Path:
    from reelgraph.demo import default_data_dir

    return default_data_dir() / "ml-latest-small"


def comparison_table(evaluation: dict[str, dict[str, dict[str, float]]]) -> Table:
    """Canvas x model: NDCG@10 (Recall@10 / Recall@20 under it)."""
    models = [m for m in MODELS if any(m in by_model for by_model in evaluation.values())]
    table = Table("canvas", *models, title="NDCG@10 (Recall@10, Recall@20)", show_edge=False)
    for canvas, by_model in evaluation.items():
        cells = []
        for model in models:
            found = by_model.get(model)
            cells.append("-" if found is None else
                         f"{found['ndcg@10']:.3f} ({found['recall@10']:.2f}, "
                         f"{found['recall@20']:.2f})")
        table.add_row(canvas, *cells)
    return table


@app.command()
def train(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option(
        help="A MovieLens folder (ml-latest-small or ml-100k files). Default: the bundled "
             "ml-latest-small.")] = None,
    item_vectors: Annotated[str, typer.Option(
        help="A vector feature of the items to feed the item tower, e.g. "
             "movielens/title_embedding.")] = "",
    epochs: Annotated[int, typer.Option(min=1)] = 3,
    dim: Annotated[int, typer.Option(min=2)] = 32,
    seed: int = 0,
    executor: Annotated[str | None, typer.Option(help="local or ray.")] = None,
    promote: Annotated[bool, typer.Option(
        help="Promote the new version to staging, then production (its gates apply).")] = False,
    as_json: AsJson = False,
) -> None:
    """Train the unified model, its single-task twins and the baselines; register it."""
    from reelgraph.flows.registry import ModelRegistry
    from reelgraph.recsys import MODEL, train_and_register
    from reelgraph.recsys import training_flow as training

    with session(ctx).workspace() as ws:
        with flow_progress(training) as bar:
            outcome = train_and_register(
                ws, data or _default_data(), executor=executor, who=current_user(), progress=bar,
                item_vectors=item_vectors, epochs=epochs, dim=dim, seed=seed)
        version = outcome.version
        if promote:
            registry = ModelRegistry(ws)
            registry.promote_to_production(MODEL, version.version, current_user(),
                                           "trained and evaluated by `reelgraph recsys train`")
            version = registry.version(MODEL, version.version)
    if as_json:
        render.echo_json({"run": outcome.run.id, "version": version.to_dict(),
                          "evaluation": outcome.evaluation})
        return
    out = render.console()
    out.print(comparison_table(outcome.evaluation))
    out.print(f"registered [bold]{escape(version.uri)}[/] (stage {version.stage}) from run "
              f"{outcome.run.id}")


@app.command()
def evaluate(ctx: typer.Context, version: Version = None, as_json: AsJson = False) -> None:
    """A registered version's per-canvas comparison (time split of its training run)."""
    from reelgraph.flows.registry import ModelRegistry
    from reelgraph.recsys import MODEL

    with session(ctx).workspace() as ws:
        chosen = ModelRegistry(ws).version(MODEL, version)
        evaluation = ws.load(chosen.run_id, "evaluation")
    if as_json:
        render.echo_json({"version": chosen.to_dict(), "evaluation": evaluation})
        return
    render.console().print(comparison_table(evaluation))
    render.console().print(f"{escape(chosen.uri)} (stage {chosen.stage}), run {chosen.run_id}")


SERVER = "http://127.0.0.1:8000"


def _required(canvas_name: str, given: dict[str, str | None]) -> None:
    """A canvas's missing inputs, named as this command's flags (not the API's fields)."""
    from reelgraph.recsys import CANVASES

    spec = next((c for c in CANVASES if c.name == canvas_name), None)
    if spec is None:
        raise InvalidInput(f"unknown canvas {canvas_name!r}",
                           f"use one of {', '.join(c.name for c in CANVASES)}")
    missing = [f"--{name}" for name in spec.requires if given.get(name) is None]
    if missing:
        raise InvalidInput(f"the {spec.name} canvas needs {' and '.join(missing)}",
                           f"pass {' '.join(f'{flag} ...' for flag in missing)} "
                           f"({spec.description})")


def _ask_server(server: str, body: dict[str, Any], production: ModelVersion
                ) -> dict[str, Any] | None:
    """The answer of a running ``reelgraph serve`` of this very home (its production version
    has the same artifact, registered at the same moment), or None when none answers or it
    serves something else: then the model is loaded here."""
    import httpx

    timeout = httpx.Timeout(10.0, connect=0.3)
    name = production.model
    try:
        theirs = httpx.get(f"{server}/api/v1/registry/models/{name}/versions/"
                           f"{production.version}", timeout=timeout)
        same = (theirs.status_code == 200
                and theirs.json().get("artifact", {}).get("digest") == production.artifact.digest
                and theirs.json().get("created_at") == production.created_at)
        if not same:
            return None
        answer = httpx.post(f"{server}/api/v1/recommend", json=body, timeout=timeout)
        found: dict[str, Any] = answer.json()
    except (httpx.HTTPError, ValueError):
        return None
    if answer.status_code >= 400 or found.get("model_version") != f"{name}@{production.version}":
        return None  # the local model gives the error (naming this command's flags)
    return found


@app.command()
def recommend(
    ctx: typer.Context,
    canvas: Annotated[str, typer.Argument(help="related, category, search or notifications.")],
    user: Annotated[str | None, typer.Option(help="The user asking.")] = None,
    item: Annotated[str | None, typer.Option(help="The source item (related).")] = None,
    query: Annotated[str | None, typer.Option(help="What was typed (search).")] = None,
    category: Annotated[str | None, typer.Option(
        help="The category row (category), in any case.")] = None,
    k: Annotated[int, typer.Option(min=1, max=100, help="How many items.")] = 10,
    time: Annotated[int | None, typer.Option(help="Request time, unix seconds.")] = None,
    server: Annotated[str, typer.Option(
        envvar="REELGRAPH_SERVER",
        help="A running `reelgraph serve` to ask first (it answers at once; loading the "
             "model here takes a while); used only when it serves this home's production "
             "version.")] = SERVER,
    as_json: AsJson = False,
) -> None:
    """Ask any canvas, hosted as the API hosts it (online or nearline)."""
    from reelgraph.flows.registry import ModelRegistry
    from reelgraph.recsys import MODEL

    given = {"user": user, "item": item, "query": query, "category": category}
    _required(canvas, given)
    context = None if time is None else {"time": time}
    with session(ctx).workspace() as ws:
        try:
            production: ModelVersion | None = ModelRegistry(ws).version(MODEL)
        except NotFound:  # nothing to serve: the service below says what to do
            production = None
    body = {"canvas": canvas, **{n: v for n, v in given.items() if v is not None}, "k": k,
            **({"context": context} if context else {})}
    served = None if production is None else _ask_server(server.rstrip("/"), body, production)
    if served is not None:
        titles: dict[str, str] = {}
        origin = f"answered by the server at {server}"
    else:
        if production is not None:
            render.console(stderr=True).print(
                f"no server at {server} serving {MODEL}@{production.version}: loading it "
                "here (`reelgraph serve` keeps it loaded)", style="dim", markup=False,
                soft_wrap=True)
        with _service(ctx) as service:
            served = service.recommend(canvas, user=user, item=item, query=query,
                                       category=category, k=k, context=context).to_dict()
            vocabulary = service.current.recommender.vocabulary
            titles = dict(zip(vocabulary.item_ids, vocabulary.titles, strict=True))
        origin = "loaded here"
    if as_json:
        render.echo_json(served)
        return
    where = served["environment"] + (f" ({served['fallback']})" if served["fallback"] else "")
    columns = ("#", "item", "title", "score") if titles else ("#", "item", "score")
    table = Table(*columns, show_edge=False)
    for rank, scored in enumerate(served["items"], 1):
        found = str(scored["item"])
        named = (escape(titles.get(found, "")),) if titles else ()
        table.add_row(str(rank), escape(found), *named, f"{scored['score']:.3f}")
    out = render.console()
    out.print(f"{served['canvas']} from {served['model_version']}, {where}"
              + (", cold start" if served["cold_start"] else "") + f"; {origin}",
              markup=False, soft_wrap=True)
    out.print(table)


@app.command()
def interact(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="Who did it.")],
    item: Annotated[str, typer.Argument(help="What they watched, rated, ...")],
    time: Annotated[float | None, typer.Option(help="When, unix seconds (default now).")
                    ] = None,
    event: str = "interaction",
    value: Annotated[float | None, typer.Option(help="E.g. a rating.")] = None,
    as_json: AsJson = False,
) -> None:
    """Log an interaction; the member's next recommendations reflect it (no retraining)."""
    from reelgraph.recsys import InteractionLog

    with session(ctx).workspace() as ws:
        log = InteractionLog(ws)
        try:
            found = log.append(user, item, time, event, value)
        finally:
            log.close()
    if as_json:
        render.echo_json(found.to_dict())
        return
    render.console().print(f"logged {escape(found.event)} of item {escape(found.item)} by "
                           f"user {escape(found.user)} at {found.time}")


@app.command()
def precompute(
    ctx: typer.Context,
    canvas: Annotated[list[str] | None, typer.Option(
        help="Only these canvases (default: every nearline one).")] = None,
) -> None:
    """Recompute the nearline answers of the serving version, with a progress bar."""
    with _service(ctx) as service:
        version = service.current.model_version
        progress = render.progress()
        bars: dict[str, Any] = {}

        def advance(name: str, done: int, total: int) -> None:
            if name not in bars:
                bars[name] = progress.add_task(f"precomputing {name}", total=total)
            progress.update(bars[name], completed=done)

        with progress:
            stored = service.precompute(canvas, progress=advance)
    for name, count in stored.items():
        render.console().print(f"{name}: {count:,} answers of {escape(version)} stored")


@app.command()
def batch(
    ctx: typer.Context,
    canvas: Annotated[str, typer.Argument(help="related, category or notifications.")],
    out: Annotated[Path, typer.Option(help="The Parquet file to write.")],
    k: int = 10,
) -> None:
    """Score every known user (every item for related) offline to a Parquet file."""
    from reelgraph.serving import score_to_parquet

    with _service(ctx) as service:
        progress = render.progress()
        with progress:
            bar = progress.add_task(f"scoring {canvas}", total=None)
            report = score_to_parquet(
                service.current.recommender, canvas, out, k,
                progress=lambda done, total: progress.update(bar, completed=done, total=total))
    render.console().print(
        f"{report.requests:,} {canvas} requests ({report.rows:,} rows) of "
        f"{escape(report.model_version)} -> {escape(str(report.path))} in "
        f"{report.seconds:.1f} s ({report.requests_per_s:,.0f} requests/s)")


@app.command()
def affinity(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option(
        help="A MovieLens folder. Default: the bundled ml-latest-small.")] = None,
    canvas: Annotated[list[str] | None, typer.Option(
        help="Only these canvases (default: all four).")] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 1,
    dim: Annotated[int, typer.Option(min=2)] = 32,
    max_train: Annotated[int, typer.Option(min=10, help="Examples per canvas.")] = 25_000,
    version: Version = None,
    as_json: AsJson = False,
) -> None:
    """Which canvases gain from sharing one model (pairwise training against single-task,
    on the validation split); stored on the model version's graph node."""
    from dataclasses import replace

    from reelgraph.flows.registry import ModelRegistry
    from reelgraph.recsys import (
        CANVAS_NAMES,
        MODEL,
        ExperimentConfig,
        load_movielens,
        measure_affinity,
        prepare_experiment,
        store_affinity,
    )

    chosen = tuple(canvas or CANVAS_NAMES)
    base = ExperimentConfig(dim=dim)
    config = replace(base, train=replace(base.train, epochs=epochs),
                     tasks=replace(base.tasks, max_train=max_train))
    dataset = load_movielens(data or _default_data())
    progress = render.progress()
    with progress:
        bar = progress.add_task("preparing", total=len(chosen) * (len(chosen) + 1) // 2)
        prepared = prepare_experiment(dataset, config)

        def training(what: str) -> None:
            progress.update(bar, description=f"training {what}")
            progress.advance(bar)

        report = measure_affinity(prepared, config, chosen, training)
    stored = None
    with session(ctx).workspace() as ws:
        registry = ModelRegistry(ws)
        if version is not None or any(m.name == MODEL for m in registry.models()):
            target = registry.version(MODEL, version)
            store_affinity(ws, target, report)
            stored = target.uri
    if as_json:
        render.echo_json({**report.to_dict(), "stored_on": stored})
        return
    table = Table("canvas", "alone", *(f"+ {c}" for c in chosen), "verdict", show_edge=False,
                  title="NDCG@10 alone, and its change with each partner [95% interval]")
    for name in chosen:
        gains = [report.gains[name].get(partner) for partner in chosen]
        cells = ["-" if d is None else f"{d.mean:+.4f} [{d.low:+.4f}, {d.high:+.4f}]"
                 for d in gains]
        table.add_row(name, f"{report.alone[name]:.4f}", *cells, report.verdict(name))
    out = render.console()
    out.print(table)
    out.print(f"stored on [bold]{escape(stored)}[/]" if stored else
              "not stored: no model is registered yet (`reelgraph recsys train`)")
