"""``reelgraph matchcut``: find, list, review, export and render match cuts.

``reelgraph.matchcut`` is imported inside the commands, keeping ``import reelgraph.cli``
light. A title that cannot be read or has no shots is reported in red and the others are
still processed; the command then exits 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from reelgraph.cli import render
from reelgraph.cli.session import current_user, session
from reelgraph.core import InvalidInput

if TYPE_CHECKING:
    from reelgraph.matchcut import MatchPair

app = typer.Typer(no_args_is_help=True, help="Match cuts: find frame and motion matches "
                                             "within and across titles, review, export.")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Kind = Annotated[str | None, typer.Option("--kind", help="frame or motion.")]


def _pairs_table(pairs: list[MatchPair], title: str) -> Table:
    table = Table(title=title, header_style="bold")
    for column in ("id", "kind", "score", "scorer", "shot A", "shot B"):
        table.add_column(column)
    for p in pairs:
        table.add_row(p.id, p.kind, f"{p.score:.3f}", p.scorer,
                      f"{p.title_a} #{p.shot_a.split(':')[1]} "
                      f"({p.span_a[0] / 1e9:.1f}-{p.span_a[1] / 1e9:.1f} s)",
                      f"{p.title_b} #{p.shot_b.split(':')[1]} "
                      f"({p.span_b[0] / 1e9:.1f}-{p.span_b[1] / 1e9:.1f} s)")
    return table


@app.command()
def find(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Video files (registered as assets).")],
    k: Annotated[int, typer.Option("--k", help="Neighbours per shot.")] = 10,
    detector: Annotated[str, typer.Option(help="content, adaptive or transnet.")] = "content",
    top: Annotated[int, typer.Option(help="Best pairs to print per kind.")] = 5,
) -> None:
    """Find match cuts within and across the titles (memoized: a re-run computes nothing)."""
    from reelgraph.matchcut import CandidateConfig, MatchCutter, register_titles

    out = render.console()
    with session(ctx).workspace() as ws:
        assets, failed = register_titles(ws, paths)
        with render.progress() as bar:
            bar.add_task(f"finding match cuts in {len(assets)} titles", total=None)
            report = MatchCutter(ws, detector=detector,
                                 config=CandidateConfig(k=k)).find(assets)
    failed.update(report.failed)
    out.print(f"{len(report.titles)} titles, "
              f"{sum(len(t.shots) for t in report.titles)} shots; computed "
              f"{report.features_computed} shot features and {report.pairs_computed} pairs")
    for kind in ("frame", "motion"):
        best = [p for p in report.pairs if p.kind == kind][:top]
        out.print(_pairs_table(best, f"best {kind} match cuts "
                                     f"({report.candidates.get(kind, 0)} candidates)"))
    for name, why in failed.items():
        out.print(Text(f"failed: {name}: {why}", style="red"), soft_wrap=True)
    if failed:
        raise InvalidInput(f"{len(failed)} titles could not be processed "
                           f"({', '.join(failed)})",
                           "see each title's reason above; the others were processed")


@app.command("list")
def list_pairs(
    ctx: typer.Context, kind: Kind = None,
    title: Annotated[str | None, typer.Option(help="Only pairs with this file name.")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score")] = None,
    limit: Annotated[int, typer.Option()] = 20, as_json: AsJson = False,
) -> None:
    """The ranked pairs of the last `find`, best first per kind, with review decisions."""
    from reelgraph.matchcut import PairStore

    with session(ctx).workspace() as ws:
        store = PairStore(ws)
        pairs = store.list(kind=kind, title=title, min_score=min_score, limit=limit)
        decisions = store.decisions(pairs)
    if as_json:
        render.echo_json([{**p.to_dict(), "decision": decisions.get(p.id)} for p in pairs])
        return
    render.console().print(_pairs_table(pairs, f"{len(pairs)} match-cut pairs"))


@app.command()
def review(
    ctx: typer.Context, pair: Annotated[str, typer.Argument(help="A pair id from `list`.")],
    decision: Annotated[str, typer.Argument(help="accept or reject.")],
    reviewer: Annotated[str | None, typer.Option(help="Default: your user name.")] = None,
) -> None:
    """Accept or reject a pair (stored as an annotation; it feeds the learned scorer)."""
    from reelgraph.matchcut import PairStore

    with session(ctx).workspace() as ws:
        found = PairStore(ws).review(pair, decision, reviewer or current_user())
    render.console().print(f"{decision}ed {found.kind} pair {found.id}: "
                           f"{found.title_a} -> {found.title_b}")


def _chosen(ctx: typer.Context, pairs: list[str]) -> list[MatchPair]:
    from reelgraph.matchcut import PairStore

    with session(ctx).workspace() as ws:
        store = PairStore(ws)
        if pairs:
            return [store.get(p) for p in pairs]
        decisions = store.decisions()
        chosen = [p for p in store.all() if decisions.get(p.id) == "accept"]
    if not chosen:
        raise InvalidInput("no accepted match-cut pairs",
                           "accept some with `reelgraph matchcut review ID accept`, or name "
                           "pairs with --pair")
    return chosen


PairOption = Annotated[list[str] | None, typer.Option(
    "--pair", help="These pairs (repeatable) instead of the accepted ones.")]


@app.command()
def export(ctx: typer.Context,
           out: Annotated[Path, typer.Argument(help="FILE.otio, FILE.edl or FILE.xml")],
           pair: PairOption = None) -> None:
    """Write the accepted pairs' transitions as an OpenTimelineIO timeline."""
    from reelgraph.matchcut import timeline, write_timeline

    chosen = _chosen(ctx, pair or [])
    with session(ctx).workspace() as ws:
        write_timeline(timeline(ws, chosen), out)
    render.console().print(f"wrote {len(chosen)} match cuts to {out}")


@app.command("render")
def render_cuts(ctx: typer.Context,
                out: Annotated[Path, typer.Argument(help="The MP4 to write.")],
                pair: PairOption = None) -> None:
    """Render the accepted pairs' transitions (last second of A, first of B) as one MP4."""
    from reelgraph.matchcut import render as render_mp4

    chosen = _chosen(ctx, pair or [])
    with session(ctx).workspace() as ws:
        report = render_mp4(ws, chosen, out)
    console = render.console()
    if report.path is not None:
        console.print(f"rendered {len(report.rendered)} match cuts to {report.path}")
    for pair_id, why in report.failed.items():
        console.print(Text(f"failed: {pair_id}: {why}", style="red"), soft_wrap=True)
    if report.failed:
        raise InvalidInput(f"{len(report.failed)} pairs could not be rendered",
                           "see each pair's reason above; the others were rendered")
