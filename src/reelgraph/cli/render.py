"""Rich renderings of graph answers. Pure functions from plain values to Rich renderables.

Consoles are made per call, not at import, so the width follows ``COLUMNS`` and the
streams are whatever ``sys.stdout``/``sys.stderr`` are at that moment (tests capture them).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from reelgraph.core import ReelgraphError, from_us, mask
from reelgraph.graph import IMPACT_KINDS, Edge, Node, ReuseCandidate, SearchHit, Similar, Subgraph

PIPE_WIDTH = 140
KIND_STYLES = {
    "dataset": "blue",
    "feature": "green",
    "embedding": "cyan",
    "model": "red",
    "run": "bright_black",
    "deployment": "yellow",
    "consumer": "bright_yellow",
    "experiment": "magenta",
    "experiment_cell": "magenta",
    "monitor": "bright_magenta",
    "incident": "bright_red",
}


def console(stderr: bool = False) -> Console:
    out = Console(highlight=False, stderr=stderr)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        # Piped or captured output: Rich's 80 columns would fold every URI.
        out = Console(highlight=False, stderr=stderr, width=PIPE_WIDTH)
    return out


def progress() -> Progress:
    """The bar long work shows: what it is doing, done of total, time so far."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console(), transient=True)


def error(exc: ReelgraphError) -> None:
    """One red line on stderr, never wrapped: ``error: <problem>. Fix: <fix>``."""
    Console(stderr=True, highlight=False).print(
        Text(f"error: {exc}", style="red"), soft_wrap=True
    )


def json_text(value: object) -> str:
    return json.dumps(value, indent=2) + "\n"


def echo_json(value: object) -> None:
    print(json_text(value), end="")


def when(us: int | None) -> str:
    return "" if us is None else from_us(us).isoformat(timespec="seconds")


def hide_password(url: str) -> str:
    return mask(url)


def kind(name: str) -> str:
    return f"[{KIND_STYLES.get(name, 'white')}]{name}[/]"


def label(node: Node) -> str:
    owner = f"  [dim]{escape(node.owner)}[/]" if node.owner else ""
    return f"{kind(node.kind)} [bold]{node.uri}[/]{owner}"


def short(node: Node) -> str:
    """The last part of a node's name, for lists where the full URI is too long."""
    return node.key.name.rsplit("/", 1)[-1]


def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(*columns, title=title, title_justify="left", show_edge=False)
    for column in table.columns:
        column.overflow = "fold"  # long words fold rather than vanish behind an ellipsis
    return table


def _width(cell: object) -> int:
    if isinstance(cell, Text):
        return cell.cell_len
    return Text.from_markup(cell).cell_len if isinstance(cell, str) else 0


def keep_whole(table: Table, *headers: str) -> Table:
    """Columns of identifiers a user types back (URIs, ids, names) are never folded or cut:
    each is as wide as its longest value, and the other columns wrap to make room. Call it
    once the rows are in."""
    for column in table.columns:
        if column.header in headers:
            column.no_wrap = True
            column.min_width = max((_width(c) for c in column.cells), default=0)
    return table


def search_table(hits: Sequence[SearchHit]) -> Table:
    table = _table("uri", "kind", "domain", "owner", "score")
    for hit in hits:
        n = hit.node
        table.add_row(n.uri, kind(n.kind), escape(n.domain), escape(n.owner), f"{hit.score:.3f}")
    return keep_whole(table, "uri")


def node_panel(node: Node) -> Panel:
    rows = Table.grid(padding=(0, 2))
    rows.add_column(style="dim")
    rows.add_column()
    for name, value in (
        ("kind", kind(node.kind)),
        ("domain", escape(node.domain)),
        ("owner", escape(node.owner)),
        ("description", escape(node.description)),
        ("tags", escape(", ".join(node.tags))),
        ("revision", f"{node.revision} since {when(node.valid_from)}"),
    ):
        rows.add_row(name, value)
    return Panel(rows, title=f"[bold]{node.uri}[/]", title_align="left")


def properties_table(node: Node) -> Table:
    table = _table("property", "value", title="properties")
    for key, value in sorted(node.properties.items()):
        text = value if isinstance(value, str) else json.dumps(value)
        table.add_row(escape(key), escape(text))
    return table


def edges_table(edges: Iterable[tuple[str, Edge, Node]]) -> Table:
    table = _table("direction", "edge", "node", "owner", title="edges")
    for direction, edge, other in sorted(edges, key=lambda e: (e[0] != "out", e[1].kind,
                                                              e[2].uri)):
        arrow = f"→ {edge.kind}" if direction == "out" else f"← {edge.kind}"
        derived = " (derived)" if "derived_by" in edge.properties else ""
        table.add_row(direction, arrow + derived, f"{kind(other.kind)} {other.uri}",
                      escape(other.owner))
    return keep_whole(table, "node")


def history_table(revisions: Sequence[Node]) -> Table:
    table = _table("revision", "valid from", "valid to", "state", "owner", "description",
                   title="revisions")
    for rev in revisions:
        state = "[red]deleted[/]" if rev.deleted else "live"
        table.add_row(str(rev.revision), when(rev.valid_from), when(rev.valid_to) or "now",
                      state, escape(rev.owner), escape(rev.description))
    return table


def _edge_between(sub: Subgraph, a: int, b: int) -> Edge | None:
    return next((e for e in sub.edges if {e.src_id, e.dst_id} == {a, b}), None)


def lineage_tree(sub: Subgraph, way: str = "upstream") -> Tree:
    """Root at the top; each node under the node it was first reached from."""
    children: dict[int, list[int]] = defaultdict(list)
    for child, parent in sub.parent.items():
        if child in sub.nodes and parent in sub.nodes:
            children[parent].append(child)

    def grow(branch: Tree, node_id: int) -> None:
        for child in sorted(children[node_id], key=lambda i: sub.nodes[i].uri):
            edge = _edge_between(sub, node_id, child)
            via = f"[dim]{edge.kind}[/] " if edge else ""
            grow(branch.add(via + label(sub.nodes[child])), child)

    tree = Tree(f"{label(sub.root)}  [dim]({way})[/]")
    grow(tree, sub.root.id)
    return tree


def impact_view(sub: Subgraph) -> Group | Text:
    affected = sub.of_kind(*IMPACT_KINDS)
    if not affected:
        return Text(f"nothing downstream of {sub.root.uri} is deployed, consumed, "
                    "tested or monitored")
    table = _table("kind", "uri", "owner", "hops", title=f"affected by a change to {sub.root.uri}")
    for group in IMPACT_KINDS:
        for node in sub.of_kind(group):
            table.add_row(kind(group), node.uri, escape(node.owner), str(sub.depth[node.id]))
    keep_whole(table, "uri")
    owners = sorted({n.owner for n in affected if n.owner})
    return Group(table, Text(f"owners to tell: {', '.join(owners) or 'none recorded'}"))


def impact_dict(sub: Subgraph) -> dict[str, object]:
    return {
        "root": sub.root.uri,
        "affected": {
            group: [
                {"uri": n.uri, "owner": n.owner, "domain": n.domain, "hops": sub.depth[n.id]}
                for n in sub.of_kind(group)
            ]
            for group in IMPACT_KINDS
        },
    }


def similar_table(model: str, similar: Sequence[Similar]) -> Table:
    table = _table("model", "domain", "owner", "score", "shared inputs",
                   title=f"models like {model}")
    for s in similar:
        table.add_row(s.model.uri, escape(s.model.domain), escape(s.model.owner),
                      f"{s.score:.3f}", ", ".join(short(n) for n in s.shared))
    return keep_whole(table, "model")


def reuse_table(candidates: Sequence[ReuseCandidate]) -> Table:
    table = _table("could reuse", "domain", "owner", "used by", "similarity",
                   title="reuse candidates: other domains' features that models like it use")
    for c in candidates:
        table.add_row(c.input.uri, escape(c.input.domain), escape(c.input.owner),
                      c.used_by.uri, f"{c.similarity:.3f}")
    return keep_whole(table, "could reuse", "used by")


def path_view(chain: Sequence[tuple[Node, Edge | None]]) -> Text:
    """One node per line; the arrow shows which way each edge points."""
    text = Text()
    previous: Node | None = None
    for node, edge in chain:
        if edge is not None and previous is not None:
            forward = edge.src_id == previous.id
            text.append(f"\n  --{edge.kind}--> " if forward else f"\n  <--{edge.kind}-- ",
                        style="dim")
        text.append(node.uri, style=KIND_STYLES.get(node.kind, "white"))
        previous = node
    return text
