"""Subgraph exports: JSON (the API's shape) and Graphviz DOT (for people to look at)."""

from __future__ import annotations

import json

from reelgraph.graph.lineage import Subgraph
from reelgraph.graph.model import Json

# One colour per kind so a DOT render reads at a glance; unknown kinds fall back to grey.
_COLOURS = {
    "dataset": "#4e79a7",
    "feature": "#59a14f",
    "embedding": "#76b7b2",
    "model": "#e15759",
    "run": "#bab0ac",
    "job": "#bab0ac",
    "deployment": "#f28e2b",
    "consumer": "#edc948",
    "experiment": "#b07aa1",
    "media_asset": "#9c755f",
    "monitor": "#ff9da7",
    "incident": "#d37295",
}


def to_json(subgraph: Subgraph) -> Json:
    """A lineage subgraph as JSON-ready data."""
    return subgraph.to_dict()


def _quote(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid DOT quoted ID


def to_dot(subgraph: Subgraph) -> str:
    """A lineage subgraph as Graphviz DOT text."""
    lines = [
        f"digraph {_quote('lineage of ' + subgraph.root.uri)} {{",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontcolor=white];',
    ]
    for node in sorted(subgraph.nodes.values(), key=lambda n: n.uri):
        label = f"{node.key.kind}\\n{node.key.namespace}/{node.key.name}"
        if node.key.version is not None:
            label += f"@{node.key.version}"
        colour = _COLOURS.get(node.key.kind, "#79706e")
        width = ", penwidth=3" if node.id == subgraph.root.id else ""
        lines.append(
            f'  {_quote(node.uri)} [label="{label}", fillcolor="{colour}"{width}];'
        )
    for edge in sorted(subgraph.edges, key=lambda e: e.id):
        src, dst = subgraph.nodes[edge.src_id].uri, subgraph.nodes[edge.dst_id].uri
        lines.append(f"  {_quote(src)} -> {_quote(dst)} [label={_quote(edge.kind)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
