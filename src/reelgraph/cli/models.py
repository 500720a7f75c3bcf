"""``reelgraph models ...``: the model registry (list, show, register, promote, gates,
subscribe, history).

Thin: each command parses its options, calls ``reelgraph.flows.registry.ModelRegistry`` and
renders the answer with Rich. Errors (a refused promotion included, with its numbers) are
``ReelgraphError``s, printed in one red line by the root group.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reelgraph.cli import render
from reelgraph.cli.session import current_user, session
from reelgraph.core import InvalidInput

if TYPE_CHECKING:  # the registry (and with it the migrations) loads inside the commands
    from reelgraph.flows.registry import (
        Consumer,
        DeclaredGate,
        Gate,
        ModelRegistry,
        ModelVersion,
        Transition,
    )

app = typer.Typer(no_args_is_help=True,
                  help="The model registry: versions from runs, stages, gates, consumers.")

Name = Annotated[str, typer.Argument(help="The model, NAMESPACE/NAME, e.g. "
                                          "personalization/popularity (show also takes "
                                          "its URI, rg://model/NAMESPACE/NAME@VERSION).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Pairs = Annotated[list[str] | None, typer.Option(metavar="METRIC=NUMBER")]


@contextmanager
def _registry(ctx: typer.Context) -> Iterator[ModelRegistry]:
    from reelgraph.flows.registry import ModelRegistry

    with session(ctx).workspace() as ws:
        yield ModelRegistry(ws)


def _pairs(values: Sequence[str] | None, option: str) -> dict[str, float]:
    parsed: dict[str, float] = {}
    for value in values or ():
        name, sep, number = value.rpartition("=")
        try:
            parsed[name] = float(number)
        except ValueError:
            name = ""
        if not sep or not name:
            raise InvalidInput(f"{option} {value!r} is not METRIC=NUMBER",
                               f"write it like {option} ndcg@10=0.25")
    return parsed


def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(*columns, title=title, title_justify="left", show_edge=False)
    for column in table.columns:
        column.overflow = "fold"
    return table


def _metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items()))


def _versions_table(versions: Sequence[ModelVersion]) -> Table:
    table = _table("version", "stage", "metrics", "run", "step", "owner", "registered",
                   title="versions")
    for v in versions:
        style = {"production": "green", "staging": "yellow", "archived": "dim"}.get(v.stage, "")
        table.add_row(str(v.version), f"[{style}]{v.stage}[/]" if style else v.stage,
                      escape(_metrics(v.metrics)), v.run_id, escape(v.step), escape(v.owner),
                      render.when(v.created_at))
    return render.keep_whole(table, "run")


def _gates_table(gates: Sequence[DeclaredGate]) -> Table:
    table = _table("stage", "gate", "spec", "declared by", title="gates")
    for g in gates:
        spec = {k: v for k, v in g.gate.to_dict().items() if k not in ("kind", "metric")}
        table.add_row(g.stage, escape(g.gate.name), escape(json.dumps(spec)),
                      escape(g.created_by))
    return table


def _consumers_table(consumers: Sequence[Consumer]) -> Table:
    table = _table("consumer", "owner", "since", title="consumers")
    for c in consumers:
        table.add_row(escape(c.consumer), escape(c.owner), render.when(c.created_at))
    return render.keep_whole(table, "consumer")


def _history_table(moves: Sequence[Transition]) -> Table:
    table = _table("when", "version", "move", "outcome", "who", "why", "gates", title="audit")
    for t in moves:
        outcome = "[green]applied[/]" if t.outcome == "applied" else "[red]refused[/]"
        gates = "; ".join(("✓ " if g.passed else "✗ ") + g.detail for g in t.gates)
        table.add_row(render.when(t.at), str(t.version), f"{t.from_stage} → {t.to_stage}",
                      outcome, escape(t.who), escape(t.why), escape(gates))
    return table


@app.command("list")
def list_models(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Every registered model, with its newest and its production version."""
    with _registry(ctx) as registry:
        models = registry.models()
    if as_json:
        render.echo_json([m.to_dict() for m in models])
        return
    if not models:
        render.console().print("no models registered yet; register one with "
                               "`reelgraph models register NAME --run RUN_ID`", markup=False)
        return
    table = _table("model", "owner", "latest", "production", "description")
    for m in models:
        table.add_row(m.name, escape(m.owner), str(m.latest or ""), str(m.production or "-"),
                      escape(m.description))
    render.console().print(render.keep_whole(table, "model"))


def _model_name(name: str) -> str:
    """NAMESPACE/NAME from itself or a model URI as the CLI prints it (rg://model/NS/NAME@V)."""
    prefix = "rg://model/"
    return name[len(prefix):].split("@", 1)[0] if name.startswith(prefix) else name


def _declared_only(registry: ModelRegistry, name: str) -> bool:
    """Whether ``name`` is a model the graph declares but the registry does not hold; if so,
    say where it is described instead."""
    if any(m.name == name for m in registry.models()):
        return False
    uri = f"rg://model/{name}"
    node = registry.ws.graph.get(uri)
    if node is None:
        return False
    versions = sorted(other.uri for _, edge, other in registry.ws.graph.edges(uri)
                      if edge.kind == "version_of")
    out = render.console()
    out.print(f"[bold]{escape(name)}[/]: declared in the lineage graph only, not a "
              "registered model (no versions, stages or gates here)", soft_wrap=True)
    out.print(escape(node.description), soft_wrap=True)
    for shown in [uri, *versions]:
        out.print(f"  reelgraph graph show {shown}", markup=False, soft_wrap=True)
    return True


@app.command()
def show(ctx: typer.Context, name: Name, as_json: AsJson = False) -> None:
    """A model: its versions with stages and metrics, its gates and its consumers."""
    name = _model_name(name)
    with _registry(ctx) as registry:
        if not as_json and _declared_only(registry, name):
            return
        model = registry.model(name)
        gates = registry.gates(name)
        consumers = registry.consumers(name)
    if as_json:
        render.echo_json({**model.to_dict(), "gates": [g.to_dict() for g in gates],
                          "consumers": [c.to_dict() for c in consumers]})
        return
    out = render.console()
    production = f"v{model.production}" if model.production else "none"
    out.print(f"[bold]{model.name}[/]  owner {escape(model.owner) or '-'}  "
              f"production {production}")
    out.print(_versions_table(model.versions))
    out.print(_gates_table(gates) if gates else "no gates")
    out.print(_consumers_table(consumers) if consumers else "no consumers")


@app.command()
def register(
    ctx: typer.Context,
    name: Name,
    run: Annotated[str, typer.Option("--run", help="The id of a run that succeeded.")],
    step: Annotated[str, typer.Option(help="The step whose stored value is the model.")] = "model",
    metric: Pairs = None,
    signature: Annotated[str, typer.Option(help="Inputs and outputs, as a JSON object.")] = "{}",
    description: Annotated[str, typer.Option(help="What this version is.")] = "",
    owner: Annotated[str, typer.Option(help="The team that owns it.")] = "",
) -> None:
    """Register the value a run's step stored as the model's next version."""
    try:
        parsed = json.loads(signature)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--signature is not JSON ({exc})",
                           "pass a JSON object, e.g. '{\"inputs\": {\"user\": \"int\"}}'") from None
    if not isinstance(parsed, dict):
        raise InvalidInput("--signature is not a JSON object", "pass a JSON object {...}")
    metrics = _pairs(metric, "--metric")
    with _registry(ctx) as registry:
        version = registry.register(name, run, step, metrics, parsed, description, owner,
                                    who=current_user())
        uri = registry.version(name, version).uri
    render.console().print(f"registered {name} v{version} ({uri})", markup=False)


@app.command()
def promote(
    ctx: typer.Context,
    name: Name,
    version: Annotated[int, typer.Argument(help="The version number.")],
    stage: Annotated[str, typer.Argument(help="staging, production, archived or none.")],
    who: Annotated[str | None, typer.Option(help="Who moves it. Default: your user name.")]
    = None,
    why: Annotated[str, typer.Option(help="Why, for the audit.")] = "",
) -> None:
    """Move a version to a stage; the stage's gates must pass (production archives the
    version in production before)."""
    with _registry(ctx) as registry:
        move = registry.promote(name, version, stage, who or current_user(), why)
    out = render.console()
    out.print(f"{name} v{version}: {move.from_stage} → {move.to_stage}", markup=False)
    for g in move.gates:
        out.print(("✓ " if g.passed else "✗ ") + g.detail, markup=False)


@app.command()
def gates(
    ctx: typer.Context,
    name: Name,
    stage: Annotated[str, typer.Option(help="The stage the new gates guard.")] = "production",
    at_least: Pairs = None,
    at_most: Pairs = None,
    not_worse: Annotated[list[str] | None, typer.Option(
        metavar="METRIC=MARGIN", help="Not worse than production by more than MARGIN.")] = None,
    lower_is_better: Annotated[bool, typer.Option(
        help="For --not-worse: smaller values are better (losses, latency).")] = False,
    remove: Annotated[list[str] | None, typer.Option(
        metavar="GATE", help="Remove a gate by name, e.g. metric_at_least:ndcg@10.")] = None,
) -> None:
    """List a model's gates; declare new ones (--at-least, --at-most, --not-worse) or
    remove some (--remove)."""
    from reelgraph.flows.registry import MetricAtLeast, MetricAtMost, MetricNotWorse

    declared: list[Gate] = [MetricAtLeast(m, x) for m, x in _pairs(at_least,
                                                                    "--at-least").items()]
    declared += [MetricAtMost(m, x) for m, x in _pairs(at_most, "--at-most").items()]
    declared += [MetricNotWorse(m, x, not lower_is_better)
                 for m, x in _pairs(not_worse, "--not-worse").items()]
    with _registry(ctx) as registry:
        for gate in declared:
            registry.declare_gate(name, gate, stage, who=current_user())
        for gate_name in remove or ():
            registry.remove_gate(name, gate_name, stage)
        found = registry.gates(name)
    render.console().print(_gates_table(found) if found else f"{name} has no gates")


@app.command()
def subscribe(
    ctx: typer.Context,
    name: Name,
    consumer: Annotated[str | None, typer.Argument(
        help="NAMESPACE/NAME of the service or team, e.g. messaging/notifications-service. "
             "Leave out to list the consumers.")] = None,
    owner: Annotated[str, typer.Option(help="The team that owns the consumer.")] = "",
    remove: Annotated[bool, typer.Option("--remove", help="Unsubscribe instead.")] = False,
) -> None:
    """Subscribe a consumer to a model (it then shows in impact analysis), or list them."""
    with _registry(ctx) as registry:
        if consumer is not None and remove:
            registry.unsubscribe(name, consumer)
        elif consumer is not None:
            registry.subscribe(name, consumer, owner, who=current_user())
        found = registry.consumers(name)
    render.console().print(_consumers_table(found) if found else f"{name} has no consumers")


@app.command()
def history(
    ctx: typer.Context,
    name: Name,
    version: Annotated[int | None, typer.Option(help="Only this version's moves.")] = None,
    as_json: AsJson = False,
) -> None:
    """The audit: every stage move, applied or refused, with who, why and the gates."""
    with _registry(ctx) as registry:
        moves = registry.history(name, version)
    if as_json:
        render.echo_json([t.to_dict() for t in moves])
    elif moves:
        render.console().print(_history_table(moves))
    else:
        render.console().print(f"{name} has no stage moves yet", markup=False)
