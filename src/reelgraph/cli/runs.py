"""``reelgraph run FILE``, ``reelgraph runs list|show|logs|resume``, ``reelgraph worker`` and
``reelgraph events list``.

Thin: parse options, call ``reelgraph.flows``, render with Rich. ``reelgraph.flows`` (and so
the migrations) is imported inside the commands, keeping ``import reelgraph.cli`` light.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from reelgraph.cli import render
from reelgraph.cli.session import session
from reelgraph.core import InvalidInput, NotFound, ReelgraphError

if TYPE_CHECKING:
    from reelgraph.flows import Event, Flow, Outcome, RunRecord, TaskRecord, Workspace

runs_app = typer.Typer(no_args_is_help=True, help="List, inspect, read the logs of and resume "
                                                  "flow runs.")
events_app = typer.Typer(no_args_is_help=True, help="The event log that starts triggered flows.")

STATUS_STYLES = {"succeeded": "green", "reused": "cyan", "running": "yellow",
                 "retrying": "yellow", "pending": "white", "failed": "red", "dead": "red"}

Executor = Annotated[str | None, typer.Option(
    "--executor", help="Where steps run: local or ray (default: the settings' executor).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
RunId = Annotated[str, typer.Argument(help="A run id, as `reelgraph runs list` shows it.")]


class RunFailed(ReelgraphError):
    """A run ended failed; its record, logs and tracebacks are kept."""


@contextmanager
def _workspace(ctx: typer.Context) -> Iterator[Workspace]:
    from reelgraph.flows import Workspace

    ws = Workspace.open(session(ctx).settings())
    try:
        yield ws
    finally:
        ws.close()


def _styled(status: str) -> str:
    return f"[{STATUS_STYLES.get(status, 'white')}]{status}[/]"


def _seconds(start: int | None, end: int | None) -> str:
    return "" if start is None or end is None else f"{(end - start) / 1e6:.2f}s"


def parse_params(pairs: list[str]) -> dict[str, str]:
    """``["k=v", ...]`` as strings; ``Flow.bind`` gives them the defaults' types."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"--param {pair!r} is not NAME=VALUE",
                               "write each parameter as --param NAME=VALUE, e.g. --param k=5")
        params[name.strip()] = value
    return params


# --- progress and reports ------------------------------------------------------------------


class _Bar:
    """A Rich progress bar over a run's tasks; a step not yet expanded counts as one task."""

    def __init__(self, flow: Flow, progress: Progress) -> None:
        self.steps = list(flow.steps)
        self.status: dict[tuple[str, int | None], str] = {}
        self.progress = progress
        self.bar = progress.add_task(f"flow {flow.name}", total=len(self.steps))

    def __call__(self, task: TaskRecord) -> None:
        self.status[(task.step, task.index)] = task.status
        seen = {step for step, _ in self.status}
        total = len(self.status) + len([s for s in self.steps if s not in seen])
        done = sum(s in ("succeeded", "reused", "failed") for s in self.status.values())
        running = sorted({step for (step, _), s in self.status.items() if s == "running"})
        label = f"{task.step}" if not running else ", ".join(running)
        self.progress.update(self.bar, total=total, completed=done,
                             description=escape(label[:40]))


@contextmanager
def flow_progress(flow: Flow) -> Iterator[_Bar]:
    progress = render.progress()
    with progress:
        yield _Bar(flow, progress)


def _step_table(run: RunRecord) -> Table:
    table = Table("step", "status", "tasks", "attempts", "time", "output", show_edge=False)
    for step, status in run.step_status().items():
        tasks = [t for t in run.tasks if t.step == step]
        refs = [t.artifact for t in tasks if t.artifact]
        output = ""
        if refs:
            output = f"{refs[0].type_name} ({refs[0].format}) {refs[0].digest[:12]}"
            output += f" +{len(refs) - 1}" if len(refs) > 1 else ""
        starts = [t.started_at for t in tasks if t.started_at]
        ends = [t.ended_at for t in tasks if t.ended_at]
        reused = sum(t.status == "reused" for t in tasks)
        table.add_row(step, _styled(status), str(len(tasks)) + (f" ({reused} reused)" if reused
                                                                 else ""),
                      str(max(t.attempts for t in tasks)),
                      _seconds(min(starts, default=None), max(ends, default=None)),
                      escape(output))
    return table


def _report(ws: Workspace, run: RunRecord) -> None:
    """The run's id, its steps and where the outputs are; RunFailed when it failed."""
    out = render.console()
    out.print(f"run [bold]{run.id}[/] of flow {run.namespace}/{run.flow}: "
              f"{_styled(run.status)} in {_seconds(run.started_at, run.ended_at)}")
    out.print(_step_table(run))
    out.print(f"outputs: artifact store {escape(ws.artifacts.url)}; graph nodes "
              f"rg://artifact/{run.namespace}/{run.flow}/STEP@{run.id}; details: "
              f"`reelgraph runs show {run.id}`", soft_wrap=True)
    if run.status != "succeeded":
        raise RunFailed(
            f"run {run.id} failed: {' '.join((run.error or 'unknown error').split())}",
            f"read the logs with `reelgraph runs logs {run.id}`, fix the cause, then "
            f"`reelgraph runs resume {run.id}`")


# --- reelgraph run -------------------------------------------------------------------------


def run(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .py file that defines a Flow.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="A flow parameter, NAME=VALUE (repeatable).")] = None,
    executor: Executor = None,
    cache: Annotated[bool, typer.Option(
        "--cache", help="Reuse results of earlier runs whose step code and inputs match.")
    ] = False,
    seed: Annotated[int | None, typer.Option(help="The run's random seed.")] = None,
    flow_name: Annotated[str | None, typer.Option(
        "--flow", help="Which flow, when the file defines several.")] = None,
) -> None:
    """Run a flow, with a progress bar; prints the run id, each step's status and outputs."""
    from reelgraph.flows import Runner, load_flow

    params = parse_params(param or [])
    flow = load_flow(file, flow_name)
    with _workspace(ctx) as ws:
        with flow_progress(flow) as bar:
            record = Runner(ws).run(flow, params, executor, use_cache=cache, seed=seed,
                                    progress=bar, source=str(file.resolve()))
        _report(ws, record)


# --- reelgraph runs ------------------------------------------------------------------------


@runs_app.command("list")
def list_runs(
    ctx: typer.Context,
    flow: Annotated[str | None, typer.Option(help="Only runs of this flow.")] = None,
    status: Annotated[str | None, typer.Option(
        help="Only runs with this status: running, succeeded or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many runs.")] = 50,
    as_json: AsJson = False,
) -> None:
    """Runs, newest first."""
    with _workspace(ctx) as ws:
        found = ws.runs.list(flow=flow, status=status, limit=limit)
    if as_json:
        render.echo_json([r.to_dict(with_tasks=False) for r in found])
        return
    if not found:
        render.console().print("no runs yet: start one with `reelgraph run FILE`")
        return
    table = Table("run", "flow", "status", "started", "time", "trigger", "error",
                  show_edge=False)
    for r in found:
        table.add_row(r.id, f"{r.namespace}/{r.flow}", _styled(r.status),
                      render.when(r.started_at), _seconds(r.started_at, r.ended_at),
                      escape(r.trigger or ""), escape((r.error or "")[:60]))
    render.console().print(render.keep_whole(table, "run", "flow", "status"))


@runs_app.command()
def show(ctx: typer.Context, run_id: RunId, as_json: AsJson = False) -> None:
    """A run: parameters, code and environment, and every step's status and output."""
    with _workspace(ctx) as ws:
        record = ws.runs.get(run_id)
    if as_json:
        render.echo_json(record.to_dict())
        return
    out = render.console()
    fields = Table.grid(padding=(0, 2))
    for name, value in (
        ("run", record.id), ("flow", f"{record.namespace}/{record.flow}"),
        ("status", _styled(record.status)), ("started", render.when(record.started_at)),
        ("time", _seconds(record.started_at, record.ended_at)),
        ("params", escape(json.dumps(record.params, default=str))),
        ("executor", record.executor), ("seed", str(record.seed)),
        ("code hash", record.code_hash), ("git commit", record.git_commit or "-"),
        ("source", escape(record.source or "-")), ("trigger", escape(record.trigger or "-")),
        ("resume of", record.resume_of or "-"), ("error", escape(record.error or "-")),
    ):
        fields.add_row(f"[bold]{name}[/]", value)
    out.print(fields)
    out.print(_step_table(record))


@runs_app.command()
def logs(
    ctx: typer.Context,
    run_id: RunId,
    step: Annotated[str | None, typer.Option(help="Only this step's tasks.")] = None,
) -> None:
    """Each task's captured output, and the traceback of every failed task."""
    with _workspace(ctx) as ws:
        record = ws.runs.get(run_id)
    tasks = [t for t in record.tasks if step is None or t.step == step]
    if step is not None and not tasks:
        raise NotFound(f"run {run_id} has no step {step!r}",
                       f"use one of {sorted(record.step_status())}")
    out = render.console()
    for task in tasks:
        element = f"[{task.index}]" if task.index is not None else ""
        out.rule(f"{task.step}{element}: {_styled(task.status)}, attempt {task.attempts}",
                 align="left")
        out.print(Text(task.log.rstrip() or "(no output)"))
        if task.traceback:
            out.print(Text(task.traceback.rstrip(), style="red"))
        elif task.error:
            out.print(Text(task.error, style="red"))


@runs_app.command()
def resume(
    ctx: typer.Context,
    run_id: RunId,
    file: Annotated[Path | None, typer.Option(
        "--file", help="The flow's file, if it moved since the run (default: the run's).")
    ] = None,
    executor: Executor = None,
) -> None:
    """Run a failed run again from its failed steps, reusing what finished."""
    from reelgraph.flows import Runner, load_flow

    with _workspace(ctx) as ws:
        old = ws.runs.get(run_id)
        source = file or (Path(old.source) if old.source else None)
        if source is None:
            raise NotFound(f"run {run_id} does not record the file of flow {old.flow!r}",
                           f"pass it: `reelgraph runs resume {run_id} --file FLOW.py`")
        flow = load_flow(source, old.flow)
        with flow_progress(flow) as bar:
            record = Runner(ws).resume(run_id, flow, executor, progress=bar)
        _report(ws, record)


# --- reelgraph worker and events -----------------------------------------------------------


def _outcome_line(outcome: Outcome) -> str:
    d, e = outcome.delivery, outcome.event
    what = e.uri or f"tick of {e.flow}"
    head = f"event {e.id} ({e.kind} {what}) -> flow {outcome.flow}: "
    if d.status == "succeeded":
        return head + f"run {d.run_id} [green]succeeded[/]"
    if d.status == "retrying":
        return head + (f"run {d.run_id} [yellow]failed[/], retry at "
                       f"{render.when(d.next_at)} (attempt {d.attempts}): {escape(d.error or '')}")
    return head + f"[red]dead-lettered[/] after {d.attempts} attempt(s): {escape(d.error or '')}"


def worker(
    ctx: typer.Context,
    flows: Annotated[list[Path] | None, typer.Option(
        "--flows", help="A flow file or a folder of them (repeatable). Default: ./flows "
                        "(with --media, only where it exists).")
    ] = None,
    media: Annotated[bool, typer.Option(
        "--media", help="Also run the built-in media pipeline on every new media asset.")
    ] = False,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    executor: Executor = None,
    max_attempts: Annotated[int | None, typer.Option(
        min=1, help="Runs per event before it is dead-lettered (default 3).")] = None,
    backoff: Annotated[float | None, typer.Option(
        min=0, help="Seconds before the first retry, doubled after (default 60).")] = None,
    poll: Annotated[float | None, typer.Option(
        min=0, help="Seconds between passes when idle (default 5).")] = None,
) -> None:
    """Log new dataset versions, media assets and schedule ticks; start the flows they
    trigger (each event starts a flow once, however many workers run)."""
    from reelgraph.flows import Worker

    paths = flows or ([] if media and not Path("flows").exists() else [Path("flows")])
    options: dict[str, Any] = {"executor": executor}
    if max_attempts is not None:
        options["max_attempts"] = max_attempts
    if backoff is not None:
        options["backoff_s"] = backoff
    out = render.console()
    with _workspace(ctx) as ws:
        extra: list[Flow] = []
        if media:
            from reelgraph.media import ingest_flow

            extra.append(ingest_flow())
        w = Worker.from_paths(ws, paths, extra, **options)
        try:
            names = ", ".join(f"{f.id} ({len(f.flow.triggers)} trigger(s))"
                              for f in w.triggered) or "none"
            out.print(f"worker {w.name}: watching {escape(names)}", soft_wrap=True)
            if not w.triggered:
                raise InvalidInput(f"no flow in {[str(p) for p in paths]} declares a trigger",
                                   "call flow.on_dataset(...), flow.on_media_asset() or "
                                   "flow.every(SECONDS) in the flow file, or pass --media "
                                   "for the media pipeline")

            def report(outcome: Outcome) -> None:
                out.print(_outcome_line(outcome), soft_wrap=True)

            if once:
                for outcome in w.run_once():
                    report(outcome)
                return
            started = time.monotonic()
            try:
                w.run(poll_s=poll, report=report)
            except KeyboardInterrupt:
                out.print(f"worker stopped after {time.monotonic() - started:.0f}s")
        finally:
            w.close()


def _deliveries(event: Event) -> str:
    parts = []
    for d in event.deliveries:
        part = f"{d.flow}: {_styled(d.status)} x{d.attempts}"
        part += f" run {d.run_id}" if d.run_id else ""
        part += f" [red]{escape(d.error)}[/]" if d.status == "dead" and d.error else ""
        parts.append(part)
    return "\n".join(parts) or "-"


@events_app.command("list")
def list_events(
    ctx: typer.Context,
    dead: Annotated[bool, typer.Option(
        "--dead", help="Only dead-lettered events, with the reason.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many events.")] = 50,
    as_json: AsJson = False,
) -> None:
    """Logged events, newest first, with the runs each started."""
    from reelgraph.flows import EventLog

    with session(ctx).workspace() as ws:
        found = EventLog(ws).list(dead=dead, limit=limit)
    if as_json:
        render.echo_json([e.to_dict() for e in found])
        return
    if not found:
        render.console().print("no dead-lettered events" if dead else "no events logged yet")
        return
    table = Table("event", "kind", "what", "logged", "deliveries", show_edge=False)
    for e in found:
        table.add_row(str(e.id), e.kind, escape(e.uri or f"tick of {e.flow}"),
                      render.when(e.created_at), _deliveries(e))
    render.console().print(table)


@events_app.command("retry")
def retry_events(
    ctx: typer.Context,
    event_ids: Annotated[list[int] | None, typer.Argument(
        help="Event ids to requeue (default: every dead-lettered or stuck delivery).")] = None,
    flow: Annotated[str | None, typer.Option(
        "--flow", help="Only deliveries to this flow (NAMESPACE/NAME).")] = None,
    as_json: AsJson = False,
) -> None:
    """Requeue dead-lettered deliveries, and those whose worker died, with fresh attempts;
    a running `reelgraph worker` picks them up on its next pass."""
    from reelgraph.flows import EventLog

    with session(ctx).workspace() as ws:
        requeued = EventLog(ws).retry(event_ids or (), flow)
    if as_json:
        render.echo_json([d.to_dict() for d in requeued])
        return
    out = render.console()
    if not requeued:
        out.print("nothing to requeue: no dead-lettered or stuck delivery matches")
    for d in requeued:
        out.print(f"event {d.event_id} -> flow {escape(d.flow)}: requeued", soft_wrap=True)
