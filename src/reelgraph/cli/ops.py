"""``reelgraph ops ...``: RecSysOps from the command line (monitors, checks, alerts,
incidents, diagnosis, replay, explain, the hotfixes: rollback, rule overlays, canvas
switches, nearline invalidation; and the canary).

Thin: each command opens the workspace, calls ``reelgraph.ops`` and renders with Rich.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

from reelgraph.cli import render
from reelgraph.cli.session import current_user, session

if TYPE_CHECKING:
    from reelgraph.ops import RecSysOps

app = typer.Typer(no_args_is_help=True,
                  help="RecSysOps: monitors, checks, alerts, incidents, replay, hotfixes.")
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Incident = Annotated[str | None, typer.Option("--incident",
                                              help="Record the hotfix on this incident.")]


@contextmanager
def _ops(ctx: typer.Context) -> Iterator[RecSysOps]:
    from reelgraph.ops import RecSysOps

    with session(ctx).workspace() as ws:
        yield RecSysOps(ws)


@app.command()
def monitors(ctx: typer.Context, as_json: AsJson = False) -> None:
    """List the monitors, what they watch and who owns them."""
    with _ops(ctx) as ops:
        found = [m.to_dict() for m in ops.monitors()]
    if as_json:
        render.echo_json(found)
        return
    table = Table("monitor", "kind", "watches", "owner", "learned")
    for m in found:
        table.add_row(m["uri"], m["kind"], "\n".join(m["watches"]), m["owner"],
                      "yes" if m["learned"] else "no")
    render.console().print(table)


@app.command()
def check(ctx: typer.Context,
          monitor: Annotated[list[str] | None, typer.Argument(help="Monitor URIs or names; "
                                                                   "default: all.")] = None,
          as_json: AsJson = False) -> None:
    """Run the checks now (the window ending now); failures alert and open incidents."""
    with _ops(ctx) as ops:
        reports = [r.to_dict() for r in ops.check(monitors=monitor or None)]
    if as_json:
        render.echo_json(reports)
        return
    for r in reports:
        state = "[green]passed[/]" if r["passed"] else f"[red]failed[/] -> {r['incident']}"
        render.console().print(f"{escape(r['monitor'])}: {state}")
        for line in r["failed"]:
            render.console().print(f"  {escape(line)}")


@app.command()
def alerts(ctx: typer.Context,
           owner: Annotated[str | None, typer.Option(help="Only this owner's.")] = None,
           limit: int = 50, as_json: AsJson = False) -> None:
    """The latest alerts, newest first."""
    with _ops(ctx) as ops:
        found = [a.to_dict() for a in ops.alerts(owner=owner, limit=limit)]
    if as_json:
        render.echo_json(found)
        return
    table = Table("id", "severity", "monitor", "owner", "signal", "incident")
    for a in found:
        table.add_row(str(a["id"]), a["severity"], a["monitor"], a["owner"], a["signal"],
                      a["incident"] or "")
    render.console().print(table)


@app.command()
def incidents(ctx: typer.Context,
              uri: Annotated[str | None, typer.Argument(help="Show this incident "
                                                             "(URI or inc-N).")] = None,
              on: Annotated[str | None, typer.Option(help="Open incidents on this node's "
                                                          "lineage.")] = None,
              status: Annotated[str | None, typer.Option(help="open, mitigated or "
                                                              "resolved.")] = None,
              as_json: AsJson = False) -> None:
    """List incidents, show one with its timeline, or those on a node's lineage."""
    with _ops(ctx) as ops:
        if uri is not None:
            found = ops.incidents.get(uri)
            render.echo_json(found.to_dict(ops.incidents.timeline(found.uri)))
            return
        chosen = ops.incidents.on_path(on) if on else ops.incidents.all(status)
        rows = [i.to_dict() for i in chosen]
    if as_json:
        render.echo_json(rows)
        return
    table = Table("incident", "status", "severity", "title", "affects")
    for i in rows:
        table.add_row(i["uri"], i["status"], i["severity"], i["title"],
                      "\n".join(i["affects"]))
    render.console().print(table)


@app.command()
def resolve(ctx: typer.Context,
            incident: Annotated[str, typer.Argument(help="URI or inc-N.")],
            answer: Annotated[list[str] | None, typer.Option(
                "--answer", help="The review's answers, in order (asked for when left "
                                 "out).")] = None,
            add_monitor: Annotated[str | None, typer.Option(
                help="Add the monitor that would have caught it sooner: its name.")] = None,
            kind: Annotated[str, typer.Option(help="The added monitor's kind.")] = "serving",
            watch: Annotated[list[str] | None, typer.Option(
                help="A node the added monitor watches (repeatable).")] = None,
            who: str = "") -> None:
    """Close an incident with its short review; maybe add the monitor that would have
    caught it sooner."""
    from reelgraph.ops import REVIEW
    from reelgraph.ops import resolve as run

    given = list(answer or [])
    answers = {q: given[i] if i < len(given) else typer.prompt(q)
               for i, q in enumerate(REVIEW)}
    who = who or current_user()
    monitor = None if add_monitor is None else {
        "name": add_monitor, "kind": kind, "watches": list(watch or []), "owner": who}
    with _ops(ctx) as ops:
        found = run(ops, incident, who, answers, monitor)
    render.console().print(f"{found.uri} is {found.status}"
                           + (f"; monitor {add_monitor} added" if monitor else ""))


@app.command()
def diagnose(ctx: typer.Context,
             incident: Annotated[str, typer.Argument(help="URI or inc-N.")]) -> None:
    """Inputs or model? Write the verdict, evidence and root-cause candidates on it."""
    from reelgraph.ops import diagnose as run

    with _ops(ctx) as ops:
        render.echo_json(run(ops, ops.incidents.get(incident).uri).to_dict())


@app.command()
def replay(ctx: typer.Context,
           request_id: Annotated[str, typer.Argument(help="A logged request's id.")]) -> None:
    """Reproduce a logged answer in isolation (and cross inputs x model versions)."""
    from reelgraph.ops import replay as run

    with _ops(ctx) as ops:
        report = run(ops, request_id)
    render.echo_json(report.to_dict())
    render.console().print("[green]identical[/]" if report.identical
                           else "[red]differs[/]: the inputs changed or scoring is not "
                                "deterministic")


@app.command()
def explain(ctx: typer.Context,
            request_id: Annotated[str, typer.Argument(help="A logged request's id.")],
            top: Annotated[int, typer.Option(help="Inputs shown per item.")] = 5,
            as_json: AsJson = False) -> None:
    """Which inputs drove each item of a logged answer (Shapley values of its inputs)."""
    from reelgraph.ops import explain as run

    with _ops(ctx) as ops:
        found = run(ops, request_id, top).to_dict()
    if as_json:
        render.echo_json(found)
        return
    table = Table("rank", "item", "score", "all off", "inputs that drove it")
    for item in found["items"]:
        drivers = "\n".join(f"{escape(c['feature'])} {c['value']:+.3f}"
                            for c in item["contributions"])
        table.add_row(str(item["rank"]), escape(item["item"]), f"{item['score']:.3f}",
                      f"{item['baseline']:.3f}", drivers)
    render.console().print(table)


@app.command()
def shadow(ctx: typer.Context,
           version: Annotated[int, typer.Argument(help="The candidate's version number.")],
           sample: Annotated[int, typer.Option(help="Recent logged requests to replay.")
                             ] = 300,
           outcomes: Annotated[str | None, typer.Option(
               help="Plays to judge hit rates on (default: the serving monitor's).")] = None,
           as_json: AsJson = False) -> None:
    """Run a candidate version beside production on replayed logged traffic (answers
    logged as shadow, never returned); exits 1 when it is worse than production's noise."""
    from reelgraph.ops import default_outcomes
    from reelgraph.ops import shadow as run

    with _ops(ctx) as ops:
        report = run(ops, version, sample, outcomes or default_outcomes(ops))
    found = report.to_dict()
    if as_json:
        render.echo_json(found)
    else:
        table = Table("measure", "candidate", "production noise")
        table.add_row("rank-biased overlap", f"{report.rbo:.3f}", f"{report.rbo_noise:.3f}")
        table.add_row("top-K churn", f"{report.churn:.3f}", f"{report.churn_noise:.3f}")
        table.add_row("latency ratio (median)", f"{report.latency_ratio:.2f}",
                      f"{report.latency_noise_ratio:.2f}")
        if report.hit_rate_delta is not None and report.hit_rate_ci is not None:
            low, high = report.hit_rate_ci
            table.add_row("hit rate delta", f"{report.hit_rate_delta:+.3f}",
                          f"95% CI {low:+.3f}..{high:+.3f} ({report.plays} plays)")
        render.console().print(table)
    if not report.passed:
        render.console(stderr=True).print(f"[red]v{version} fails shadow:[/] "
                                          + escape("; ".join(report.reasons)))
        raise typer.Exit(1)
    render.console().print(f"[green]v{version} passes shadow[/] over {report.requests} "
                           "requests")


@app.command()
def rollback(ctx: typer.Context, incident: Incident = None,
             who: Annotated[str, typer.Option(help="Who rolls back.")] = "") -> None:
    """Put the model's previous production version back (the server swaps it in)."""
    from reelgraph.ops import rollback as run

    with _ops(ctx) as ops:
        version = run(ops, who or current_user(), incident)
        render.console().print(f"{ops.model} v{version} is in production again")


@app.command()
def block(ctx: typer.Context,
          item: Annotated[str, typer.Argument(help="The item id.")],
          canvas: Annotated[str, typer.Option(help="A canvas, or * for all.")] = "*",
          action: Annotated[str, typer.Option(help="block, pin or boost.")] = "block",
          weight: Annotated[float, typer.Option(help="A boost's score bonus.")] = 1.0,
          expires_in: Annotated[float | None, typer.Option(help="Seconds until it lapses.")
                                ] = None,
          incident: Incident = None, who: str = "") -> None:
    """Block, pin or boost an item on a canvas (applied at serving, no retraining)."""
    from reelgraph.ops import add_rule

    with _ops(ctx) as ops:
        rule = add_rule(ops, canvas, item, action, who or current_user(), expires_in,
                        weight, incident)
    render.console().print(f"rule {rule.id}: {action} {item} on {canvas}")


@app.command()
def unblock(ctx: typer.Context, rule: Annotated[int, typer.Argument(help="The rule id.")],
            incident: Incident = None, who: str = "") -> None:
    """Remove a rule (it stays in the audit)."""
    from reelgraph.ops import remove_rule

    with _ops(ctx) as ops:
        remove_rule(ops, rule, who or current_user(), incident)
    render.console().print(f"rule {rule} removed")


@app.command()
def launches(ctx: typer.Context,
             hours: Annotated[float, typer.Option(help="Replay requests logged in the last "
                                                       "this many hours.")] = 24.0,
             sample: int = 300, as_json: AsJson = False) -> None:
    """Items with no interactions yet: predicted exposure under the production model, the
    neglected ones flagged, before they launch."""
    import time

    from reelgraph.ops import forecast

    with _ops(ctx) as ops:
        found = [f.to_dict() for f in forecast(ops, ops.impressions(time.time() - hours * 3600),
                                               sample=sample)]
    if as_json:
        render.echo_json(found)
        return
    table = Table("item", "top-k exposure", "expected exposure", "requests", "flagged")
    for f in found:
        table.add_row(f["item"], str(f["predicted_exposure"]),
                      f"{f['expected_exposure']:.2f}", str(f["requests"]),
                      "[red]neglected[/]" if f["flagged"] else "")
    render.console().print(table)


@app.command()
def switch(ctx: typer.Context,
           canvas: Annotated[str, typer.Argument(help="A canvas, or * for all.")],
           to: Annotated[str, typer.Option(help="fallback (popularity) or nearline-only.")
                         ] = "fallback",
           expires_in: Annotated[float, typer.Option(help="Seconds until it lapses.")
                                 ] = 3600.0,
           incident: Incident = None, who: str = "") -> None:
    """Serve a canvas from a fallback environment until an expiry (applied at serving)."""
    from reelgraph.ops import switch_canvas

    with _ops(ctx) as ops:
        found = switch_canvas(ops, canvas, to, who or current_user(), expires_in, incident)
    render.console().print(f"switch {found.id}: {canvas} served from {to} for "
                           f"{expires_in:.0f} s")


@app.command()
def unswitch(ctx: typer.Context, switch_id: Annotated[int, typer.Argument(
                 help="The switch id.")],
             incident: Incident = None, who: str = "") -> None:
    """End a switch: the canvas is served as configured again (it stays in the audit)."""
    from reelgraph.ops import end_switch

    with _ops(ctx) as ops:
        end_switch(ops, switch_id, who or current_user(), incident)
    render.console().print(f"switch {switch_id} ended")


@app.command()
def switches(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Canvas switches, active and past."""
    with _ops(ctx) as ops:
        found = [s.to_dict() for s in ops.store.switches()]
    _listing(found, as_json, ("id", "canvas", "environment", "expires_at", "removed_at",
                              "who", "incident"))


def _listing(rows: list[dict[str, object]], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        render.echo_json(rows)
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(escape(str(row[c] if row[c] is not None else "")) for c in columns))
    render.console().print(table)


@app.command()
def invalidate(ctx: typer.Context,
               canvas: Annotated[list[str] | None, typer.Option(
                   help="A nearline canvas (repeatable; default: all of them).")] = None,
               user: Annotated[list[str] | None, typer.Option(
                   help="Only this member's answers (repeatable).")] = None,
               item: Annotated[list[str] | None, typer.Option(
                   help="Only answers holding this item (repeatable).")] = None,
               version: Annotated[int | None, typer.Option(
                   help="The model version (default: the serving one).")] = None,
               recompute: Annotated[bool, typer.Option(
                   help="Recompute them now, with a progress bar.")] = True,
               incident: Incident = None, who: str = "") -> None:
    """Invalidate nearline answers (kept, to restore) and recompute them."""
    from reelgraph.ops import invalidate as run
    from reelgraph.ops import recompute as refill
    from reelgraph.serving import RecommendationService

    with session(ctx).workspace() as ws:
        from reelgraph.ops import RecSysOps

        ops = RecSysOps(ws)
        service = RecommendationService(ws)
        try:
            service.refresh(precompute=False)
            found = run(ops, service, who or current_user(), version=version,
                        canvases=canvas, users=user, items=item, incident=incident)
            render.console().print(f"invalidation {found.id}: {found.removed} answer(s) of "
                                   f"v{found.selection['version']} removed")
            if recompute:
                with render.progress() as bar:
                    tasks: dict[str, TaskID] = {}

                    def step(name: str, done: int, total: int) -> None:
                        if name not in tasks:
                            tasks[name] = bar.add_task(f"recomputing {name}", total=total)
                        bar.update(tasks[name], completed=done)

                    stored = refill(service, found, step)
                render.console().print("recomputed: " + (", ".join(
                    f"{n} {c}" for n, c in stored.items()) or "nothing (not the serving "
                                                               "version)"))
        finally:
            service.close()


@app.command()
def invalidations(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Nearline invalidations, oldest first."""
    with _ops(ctx) as ops:
        found = [i.to_dict() for i in ops.store.invalidations()]
    _listing(found, as_json, ("id", "removed", "selection", "who", "incident",
                              "restored_at"))


@app.command("restore-nearline")
def restore_nearline(ctx: typer.Context,
                     invalidation_id: Annotated[int, typer.Argument(
                         help="The invalidation id.")],
                     incident: Incident = None, who: str = "") -> None:
    """Put the answers an invalidation removed back as they were."""
    from reelgraph.ops import RecSysOps, restore
    from reelgraph.serving import RecommendationService

    with session(ctx).workspace() as ws:
        service = RecommendationService(ws)
        try:
            count = restore(RecSysOps(ws), service, invalidation_id, who or current_user(),
                            incident)
        finally:
            service.close()
    render.console().print(f"{count} answer(s) restored")


canary = typer.Typer(no_args_is_help=True,
                     help="A candidate serving a share of members; aborts itself if worse.")
app.add_typer(canary, name="canary")


@canary.command("start")
def canary_start(ctx: typer.Context,
                 version: Annotated[int, typer.Argument(help="The candidate's version.")],
                 share: Annotated[float, typer.Option(help="Share of members (0 to 0.5).")
                                  ] = 0.1,
                 window: Annotated[float, typer.Option(help="Seconds it must hold.")
                                   ] = 86_400.0,
                 who: str = "") -> None:
    """Send a share of members to a candidate version (the server applies it)."""
    from reelgraph.ops import start_canary

    with _ops(ctx) as ops:
        found = start_canary(ops, version, share, window, who or current_user())
    render.console().print(f"canary {found.id}: v{version} answers {share:.0%} of members")


@canary.command("check")
def canary_check(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Judge the running canary now; it aborts itself when worse than production."""
    from reelgraph.ops import check_canary, default_outcomes

    with _ops(ctx) as ops:
        found = check_canary(ops, default_outcomes(ops))
    if found is None:
        render.console().print("no canary is running")
        return
    if as_json:
        render.echo_json(found.to_dict())
    else:
        render.console().print(f"canary v{found.canary.version}: {found.outcome} "
                               f"({found.requests} requests)")
    if found.outcome == "aborted":
        render.console(stderr=True).print(
            f"[red]aborted:[/] {escape(found.canary.reason or '')} -> "
            f"{found.incident.uri if found.incident else ''}")
        raise typer.Exit(1)


@canary.command("promote")
def canary_promote(ctx: typer.Context, who: str = "") -> None:
    """Promote the canary's version once it has held for its window."""
    from reelgraph.ops import default_outcomes, promote_canary

    with _ops(ctx) as ops:
        found = promote_canary(ops, who or current_user(), default_outcomes(ops))
    render.console().print(f"v{found.version} is in production")


@canary.command("stop")
def canary_stop(ctx: typer.Context, who: str = "") -> None:
    """Stop the running canary (traffic back to production)."""
    from reelgraph.ops import stop_canary

    with _ops(ctx) as ops:
        found = stop_canary(ops, who or current_user())
    render.console().print(f"canary {found.id} stopped")


@canary.command("list")
def canary_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Canaries, the latest last."""
    with _ops(ctx) as ops:
        found = [c.to_dict() for c in ops.store.canaries()]
    _listing(found, as_json, ("id", "version", "share", "status", "reason", "who"))
