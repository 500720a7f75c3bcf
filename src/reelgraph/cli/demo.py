"""``reelgraph demo``: the main job, end to end, then where to look next."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table

from reelgraph.cli import render
from reelgraph.cli.session import session
from reelgraph.cli.stages import stages

if TYPE_CHECKING:
    from rich.console import Console

    from reelgraph.demo import (
        DemoReport,
        MatchCutReport,
        MediaReport,
        RecommenderReport,
        WeekReport,
    )
    from reelgraph.flows import RunRecord
    from reelgraph.flows.registry import ModelVersion, Transition


def demo(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Folder holding ml-latest-small/ (default: the "
                                    "checkout's examples/data)."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Embed every title and train the recommender with its "
                                    "full budget (the benchmarks' configuration; a first run "
                                    "takes far longer)."),
    ] = False,
) -> None:
    """Run the main job: data, catalog, models, features, serving and media, end to end."""
    # deferred: keeps `import reelgraph.cli` light
    from reelgraph.demo import FULL, SMALL, catalog, run
    from reelgraph.flows import Workspace

    current = session(ctx)
    settings = current.settings()
    config = FULL if full else SMALL
    _print_config(config.describe(), full)
    with Workspace.open(settings) as ws, stages() as shown:
        report = run(ws, data, config, shown)
    show_report(report, render.hide_password(settings.metadata_url), catalog.RANKER_V2,
                catalog.RATINGS)
    _print_config(config.describe(), full)


def _print_config(described: str, full: bool) -> None:
    other = ("" if full else
             " (the full one, as the benchmarks run it: `reelgraph demo --full`)")
    render.console().print(f"configuration {described}{other}", markup=False, soft_wrap=True)


def show_report(report: DemoReport, where: str, ranker: str, ratings: str) -> None:
    out = render.console()
    out.print(Rule("reelgraph demo: the model lifecycle graph"))
    out.print(f"graph: {where}", markup=False)
    out.print(f"data:  {report.data_dir}", markup=False)

    datasets = Table("dataset", "rows", "columns", "sha256", show_edge=False,
                     title="datasets (measured from the files)", title_justify="left")
    for node in report.datasets:
        p = node.properties
        datasets.add_row(node.uri, f"{p['rows']:,}", ", ".join(c["name"] for c in p["schema"]),
                         str(p["sha256"])[:12] + "…")
    out.print(datasets)

    counts = ", ".join(f"{n} {kind}" for kind, n in report.registered.items())
    out.print(f"registered {sum(report.registered.values())} nodes ({counts}) "
              f"and {report.edges} edges", markup=False)
    if report.new_revisions:
        out.print(f"[green]{report.new_revisions} new revisions written[/] "
                  f"({report.derived} derived links)")
    else:
        out.print("[green]0 new revisions: everything was already registered[/]")

    out.print(Rule("upstream lineage of the ranker"))
    out.print(render.lineage_tree(report.lineage))
    out.print(Rule("impact of a change to ratings.csv"))
    out.print(render.impact_view(report.impact))
    out.print(Rule("models like the ranker, in any domain"))
    out.print(render.similar_table(ranker, report.similar))
    out.print(render.reuse_table(report.reuse))

    out.print(Rule("a real model on the paved road"))
    trained = report.training
    _print_run(out, trained.run, trained.reused_steps)
    out.print(_puresvd_table(trained.metrics))
    gain = trained.metrics["gain"]
    verdict = ("PureSVD beats popularity" if gain["ndcg@10_low"] > 0 else
               "no clear winner: the interval includes zero")
    out.print(f"PureSVD - popularity, NDCG@10: {gain['ndcg@10']:+.3f} "
              f"[95% CI {gain['ndcg@10_low']:+.3f}, {gain['ndcg@10_high']:+.3f}] over "
              f"{gain['test_users']:.0f} test users (paired bootstrap): {verdict}",
              markup=False, soft_wrap=True)
    _print_version(out, trained.version, trained.newly_registered, trained.promotions)
    out.print(render.lineage_tree(report.model_lineage))

    out.print(Rule("memoized features: a text embedding of every title"))
    emb = report.embeddings
    out.print(f"first call:  {len(emb.first.computed):,} computed, {emb.first.reused:,} reused "
              f"in {emb.first_s:.2f} s", markup=False)
    again = (f"({emb.speedup:,.0f}x faster)" if emb.first.computed
             else "(both memoized by an earlier demo run)")
    out.print(f"second call: {len(emb.second.computed):,} computed, {emb.second.reused:,} reused "
              f"in {emb.second_s:.2f} s {again}", markup=False)
    out.print("titles nearest to Toy Story (1995), from the vector index")
    near = Table("movie", "title", "cosine", show_edge=False)
    for key, title, score in emb.neighbours:
        near.add_row(key, title, f"{score:.3f}")
    out.print(near)

    _print_recommender(out, report.recommender)
    _print_on_call(out, report.on_call)
    _print_media(out, report.media)
    _print_matchcuts(out, report.matchcuts)

    out.print(Rule("where to look next"))
    for command, why in (
        ("reelgraph graph search genre", "find nodes by words"),
        (f"reelgraph graph show {ranker} --history", "a node, its edges and revisions"),
        (f"reelgraph graph impact {ratings}", "who a data change affects"),
        ("reelgraph runs list", "flow runs, their steps and logs"),
        ("reelgraph models show personalization/puresvd-recommender", "versions and stages"),
        ("reelgraph recsys recommend search --query 'termnator'", "any canvas, as served"),
        ("reelgraph media list", "the ingested clips; `media shots|annotations|sheet ASSET`"),
        (f"reelgraph graph export {ranker} --format dot -o ranker.dot", "a Graphviz view"),
        ("reelgraph serve", "the REST API at http://127.0.0.1:8000/docs"),
    ):
        out.print(f"  [bold]{command}[/]  [dim]# {why}[/]", soft_wrap=True)
    out.print("[dim](from a checkout, run them as scripts/reelgraph ...)[/]")


def _print_run(out: Console, run: RunRecord, reused: int) -> None:
    steps = len(run.tasks)
    if reused == steps:
        out.print(f"training run {run.id}: [green]all {steps} steps reused[/] from earlier "
                  "runs (memoized: nothing recomputed)")
    else:
        out.print(f"training run {run.id}: {steps - reused} steps computed, {reused} reused")


def _puresvd_table(metrics: dict[str, dict[str, float]]) -> Table:
    table = Table("model", "recall@10", "recall@20", "ndcg@10", "ndcg@10 95% CI", "test users",
                  show_edge=False, title_justify="left",
                  title="time-split evaluation (ml-latest-small, last 10% of time held out)")
    for name in ("puresvd", "popularity"):
        m = metrics[name]
        table.add_row(name, f"{m['recall@10']:.3f}", f"{m['recall@20']:.3f}",
                      f"{m['ndcg@10']:.3f}", f"{m['ndcg@10_low']:.3f}-{m['ndcg@10_high']:.3f}",
                      f"{m['test_users']:.0f}")
    return table


def _print_version(out: Console, version: ModelVersion, newly: bool,
                   promotions: Sequence[Transition]) -> None:
    state = "registered" if newly else "already registered"
    out.print(f"{version.uri}: {state}, stage [bold]{version.stage}[/]", soft_wrap=True)
    if not promotions:
        return
    gates = Table("move", "gate", "check", "result", show_edge=False, title_justify="left",
                  title=f"promotion gates of {version.uri}")
    for move in promotions:
        results = move.gates or ()
        for result in results:
            gates.add_row(f"{move.from_stage} -> {move.to_stage}", escape(result.gate),
                          escape(result.detail),
                          "[green]passed[/]" if result.passed else "[red]failed[/]")
        if not results:
            gates.add_row(f"{move.from_stage} -> {move.to_stage}", "-", "no gates", "")
    out.print(gates)


def _print_on_call(out: Console, week: WeekReport) -> None:
    out.print(Rule("a week on call: one injected fault, detected, diagnosed, rolled back"))
    out.print(f"{week.requests:,} requests from the held-out members over 7 simulated days; "
              f"v{week.good} in production, the broken v{week.broken} promoted on day 4 "
              f"(its weights are noise: a bad export, no gate)", markup=False, soft_wrap=True)
    if week.false_alarms:
        out.print(f"[yellow]{week.false_alarms} alert(s) before the fault (false alarms)[/]")
    if week.alert is None or week.incident is None:
        out.print("[red]the fault was not detected this week[/]")
    else:
        hours = week.hours_to_detect or 0.0
        out.print(f"alert ({week.alert.severity}, {hours:.0f} h after the fault): "
                  f"{week.alert.message}", markup=False, soft_wrap=True)
        out.print(f"incident {week.incident.uri}: {week.incident.status}", markup=False)
        if week.diagnosis is not None:
            causes = ", ".join(c.uri for c in week.diagnosis.candidates[:3]) or "none named"
            out.print(f"verdict: {week.diagnosis.verdict}; root cause candidates: {causes}",
                      markup=False, soft_wrap=True)
            for line in week.diagnosis.evidence[:3]:
                out.print(f"  evidence: {line}", markup=False, soft_wrap=True)
        out.print(f"hotfix: rolled back to v{week.rolled_back_to}", markup=False)
    rates = Table("day", "hit rate@10 of what members played", "served by", show_edge=False)
    for day, rate, versions in week.hit_rate:
        rates.add_row(str(day + 1), f"{rate:.3f}", versions)
    out.print(rates)
    out.print("hit rate@10 " + "; ".join(f"{phase}: {rate:.3f} ({n} requests)"
                                         for phase, (rate, n) in week.phases.items()),
              markup=False, soft_wrap=True)
    out.print(f"[dim]explore it: REELGRAPH_HOME={week.home} reelgraph ops incidents[/]",
              soft_wrap=True)


def _print_recommender(out: Console, report: RecommenderReport) -> None:
    from reelgraph.cli.recsys import comparison_table

    out.print(Rule("one recommender for every canvas"))
    _print_run(out, report.run, report.reused_steps)
    out.print(comparison_table(report.evaluation))
    beaten = report.beaten()
    if beaten:
        where = "; ".join(f"{canvas}: {baseline} {rival:.3f} vs unified {unified:.3f}"
                          for canvas, baseline, unified, rival in beaten)
        out.print(f"[yellow]a baseline beats the unified model (NDCG@10)[/] on {len(beaten)} "
                  f"of {len(report.evaluation)} canvases: {escape(where)}", soft_wrap=True)
        out.print("  what it means: the gates below promote it (one model serves every "
                  "canvas), but on those canvases the answers below are worse than the "
                  "baseline's would be; these are point estimates on one time split, so "
                  "small gaps may be noise", soft_wrap=True)
    _print_version(out, report.version, report.newly_registered, report.promotions)
    stored = ", ".join(f"{n:,} {c}" for c, n in report.precomputed.items())
    out.print(f"nearline answers precomputed: {stored}" if any(report.precomputed.values())
              else "[green]nearline answers already precomputed and fresh[/]")
    for canvas, asked, served in report.answers:
        question = ", ".join(f"{k}={v!r}" for k, v in asked.items())
        answer = served.recommendations
        where = served.environment + (", cold start" if answer.cold_start else "")
        items = [i for i, _ in answer.items]
        titles = "; ".join(report.titles.get(i, i) for i in items)
        out.print(f"[bold]{canvas}[/]({escape(question)}) [dim]{where}[/]: {escape(titles)}",
                  soft_wrap=True)
        generic = report.generic(items)
        if canvas == "related" and generic * 2 > len(items):
            out.print(f"  [yellow]generic, not related:[/] {generic} of {len(items)} are among "
                      "the most-rated titles (what popularity answers for any title); the "
                      "title embedding's neighbours above are the related titles to trust "
                      "until the related canvas beats popularity", soft_wrap=True)


def _print_matchcuts(out: Console, found: MatchCutReport) -> None:
    counts = ", ".join(f"{n} {kind}" for kind, n in found.candidates.items())
    out.print(f"match cuts: {counts} candidate pairs ranked; {found.computed} features "
              "computed (0 when memoized)")
    best = Table("kind", "shot A", "shot B", "score", "preview", show_edge=False,
                 title="best match cuts across titles", title_justify="left")
    for pair, preview in found.best:
        best.add_row(pair.kind, escape(f"{pair.title_a} #{pair.shot_a.rsplit(':', 1)[1]}"),
                     escape(f"{pair.title_b} #{pair.shot_b.rsplit(':', 1)[1]}"),
                     f"{pair.score:.3f} ({pair.scorer})",
                     escape(str(preview)) if preview else "-")
    out.print(best)
    for where, why in found.failed.items():
        out.print(f"[red]failed[/] {escape(where)}: {escape(why)}", soft_wrap=True)


def _print_media(out: Console, media: MediaReport) -> None:
    out.print(Rule("media: the bundled clips, ingested by the pipeline's trigger"))
    if media.runs:
        out.print(f"{media.runs} pipeline run(s) started by new media-asset events")
    else:
        out.print("[green]no new media: every clip was ingested by an earlier run[/]")
    clips = Table("clip", "codec", "duration", "shots", "shot embeddings", "contact sheet",
                  show_edge=False)
    for clip in media.clips:
        probe = clip.asset.probe
        video = probe.video
        clips.add_row(escape(clip.asset.file_name), video.codec if video else "-",
                      f"{probe.duration_s:.1f} s", str(len(clip.shots)), str(clip.embeddings),
                      escape(str(clip.sheet)) if clip.sheet else "-")
    out.print(clips)
    for clip in media.clips[:1]:
        times = ", ".join(f"{a / 1e9:.2f}-{b / 1e9:.2f}" for a, b in clip.shots[:8])
        more = f" ... ({len(clip.shots)} in all)" if len(clip.shots) > 8 else ""
        out.print(f"shots of {escape(clip.asset.file_name)} (s): {times}{more}", soft_wrap=True)
    if media.alike:
        alike = Table("shot", "most alike in another title", "cosine", show_edge=False,
                      title="shots alike across titles (framing embedding, vector index)",
                      title_justify="left")
        for shot, other, score in media.alike:
            alike.add_row(escape(shot), escape(other), f"{score:.3f}")
        out.print(alike)
    for where, why in media.failed.items():
        out.print(f"[red]failed[/] {escape(where)}: {escape(why)}", soft_wrap=True)
