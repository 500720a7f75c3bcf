"""``reelgraph graph ...``: search, show, lineage, impact, similar, export, path, derive.

Thin: each command parses its options, calls ``reelgraph.graph.Graph`` and renders the
answer with ``render``. Errors are ``ReelgraphError``s, printed by the root group.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.markup import escape
from rich.table import Table

from reelgraph.cli import render
from reelgraph.cli.files import write_atomic
from reelgraph.cli.session import session
from reelgraph.graph import to_dot, to_json

if TYPE_CHECKING:
    from reelgraph.graph import Graph, Subgraph

app = typer.Typer(no_args_is_help=True, help="Search, inspect and walk the lifecycle graph.")

AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Answer as of this ISO-8601 time, e.g. 2026-11-23T10:00:00Z."),
]
Uri = Annotated[str, typer.Argument(help="A node URI: rg://KIND/NAMESPACE/NAME[@VERSION].")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table or tree.")]
Downstream = Annotated[
    bool, typer.Option("--downstream", help="Walk downstream (consumers) instead of upstream.")
]
Depth = Annotated[int, typer.Option("--depth", help="How many hops to walk (1-50).")]
Way = Literal["upstream", "downstream"]


class ExportFormat(StrEnum):
    json = "json"
    dot = "dot"


@app.command()
def search(
    ctx: typer.Context,
    words: Annotated[list[str], typer.Argument(help="Words to look for in names, "
                                                    "descriptions, tags and properties.")],
    kind: Annotated[str | None, typer.Option(help="Only nodes of this kind.")] = None,
    domain: Annotated[str | None, typer.Option(help="Only nodes of this domain.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only nodes with this owner.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only nodes with this tag.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many hits.")] = 20,
    as_of: AsOf = None,
) -> None:
    """Full-text search over the graph, best match first."""
    text = " ".join(words)
    with session(ctx).graph() as graph:
        hits = graph.search(text, limit=limit, as_of=as_of, kind=kind, domain=domain,
                            owner=owner, tag=tag)
    if hits:
        render.console().print(render.search_table(hits))
    else:
        render.console().print(f"no node matches {text!r}", markup=False)


@app.command()
def show(
    ctx: typer.Context,
    uri: Uri,
    as_of: AsOf = None,
    history: Annotated[bool, typer.Option("--history", help="Also list every revision.")] = False,
) -> None:
    """A node: its fields, properties, edges in and out, and optionally its revisions."""
    with session(ctx).graph() as graph:
        node = graph.show(uri, as_of)
        edges = graph.edges(uri, as_of)
        revisions = graph.history(uri) if history else []
    out = render.console()
    out.print(render.node_panel(node))
    if node.properties:
        out.print(render.properties_table(node))
    out.print(render.edges_table(edges) if edges else "no edges")
    if revisions:
        out.print(render.history_table(revisions))


@app.command()
def lineage(
    ctx: typer.Context,
    uri: Uri,
    downstream: Downstream = False,
    depth: Depth = 10,
    edge_kind: Annotated[
        list[str] | None,
        typer.Option("--edge-kind", help="Follow only this edge kind (repeatable)."),
    ] = None,
    as_of: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Everything upstream (or downstream) of a node, as a tree."""
    way: Way = "downstream" if downstream else "upstream"
    with session(ctx).graph() as graph:
        sub = graph.lineage(uri, way, depth, edge_kind or None, as_of)
        incidents = _incidents(graph, sub)
    if as_json:
        render.echo_json({**to_json(sub), "incidents": incidents})
    else:
        render.console().print(render.lineage_tree(sub, way))
        _print_incidents(incidents)


@app.command()
def impact(ctx: typer.Context, uri: Uri, as_of: AsOf = None, as_json: AsJson = False) -> None:
    """Deployments, consumers, experiments and monitors downstream of a node, with owners."""
    with session(ctx).graph() as graph:
        sub = graph.impact(uri, as_of)
        incidents = _incidents(graph, sub)
    if as_json:
        render.echo_json({**render.impact_dict(sub), "incidents": incidents})
    else:
        render.console().print(render.impact_view(sub))
        _print_incidents(incidents)


def _incidents(graph: Graph, sub: Subgraph) -> list[dict[str, Any]]:
    """The open incidents affecting a node of the answer (RecSysOps' ``affects`` edges)."""
    from reelgraph.ops import open_incidents

    return [i.to_dict() for i in open_incidents(graph, {n.uri for n in sub.nodes.values()})]


def _print_incidents(incidents: list[dict[str, Any]]) -> None:
    for i in incidents:
        render.console().print(
            f"[red]open incident[/] {escape(i['uri'])} ({i['status']}, {i['severity']}): "
            f"{escape(i['title'])}, affects {escape(', '.join(i['affects']))}")


@app.command()
def similar(
    ctx: typer.Context,
    uri: Uri,
    limit: Annotated[int, typer.Option(min=1, help="At most this many models.")] = 10,
    as_of: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Models like this one in any domain (shared inputs), and what it could reuse."""
    with session(ctx).graph() as graph:
        models = graph.similar(uri, limit, as_of)
        reuse = graph.reuse_candidates(uri, as_of=as_of)
    if as_json:
        render.echo_json({"model": uri, "similar": [s.to_dict() for s in models],
                          "reuse_candidates": [c.to_dict() for c in reuse]})
        return
    out = render.console()
    if models:
        out.print(render.similar_table(uri, models))
    else:
        out.print(f"no other model shares an input with {uri}", markup=False)
    if reuse:
        out.print(render.reuse_table(reuse))


@app.command()
def export(
    ctx: typer.Context,
    uri: Uri,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="json or dot.")],
    downstream: Downstream = False,
    depth: Depth = 10,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    as_of: AsOf = None,
) -> None:
    """A node's lineage subgraph as JSON or Graphviz DOT."""
    way: Way = "downstream" if downstream else "upstream"
    with session(ctx).graph() as graph:
        sub = graph.lineage(uri, way, depth, None, as_of)
    text = to_dot(sub) if fmt is ExportFormat.dot else render.json_text(to_json(sub))
    if output is None:
        print(text, end="")
        return
    write_atomic(output, text)
    render.console().print(
        f"wrote {len(sub.nodes)} nodes and {len(sub.edges)} edges to {output}", markup=False
    )


@app.command()
def path(
    ctx: typer.Context,
    start: Annotated[str, typer.Argument(metavar="FROM", help="The URI to start from.")],
    goal: Annotated[str, typer.Argument(metavar="TO", help="The URI to reach.")],
    as_of: AsOf = None,
) -> None:
    """A shortest chain of edges between two nodes, in either direction."""
    with session(ctx).graph() as graph:
        chain = graph.path(start, goal, as_of)
    if chain:
        render.console().print(render.path_view(chain))
    else:
        render.console().print(f"no path from {start} to {goal} within 12 hops", markup=False)


@app.command()
def derive(ctx: typer.Context) -> None:
    """Materialise multi-hop relations as direct edges (safe to repeat)."""
    with session(ctx).graph() as graph:
        results = graph.derive()
    table = Table("rule", "added", "removed", "kept", show_edge=False)
    for r in results:
        table.add_row(r.rule, str(r.added), str(r.removed), str(r.kept))
    render.console().print(table)
