"""Load a flow from a Python file, as ``reelgraph run FILE`` does."""

from __future__ import annotations

from pathlib import Path

from reelgraph.core import InvalidInput, NotFound, import_file
from reelgraph.flows.definition import Flow

FLOW_MODULE_PREFIX = "reelgraph_flow_"


def load_flow(path: str | Path, name: str | None = None) -> Flow:
    """The ``Flow`` defined in the file (the one named ``name`` if it defines several)."""
    module = import_file(path, FLOW_MODULE_PREFIX, "flow", "a Flow")
    flows = {v.name: v for v in vars(module).values() if isinstance(v, Flow)}
    if name is not None:
        if name not in flows:
            raise NotFound(f"{path} defines no flow named {name!r}",
                           f"use one of {sorted(flows)}")
        flow = flows[name]
    elif len(flows) == 1:
        flow = next(iter(flows.values()))
    else:
        raise InvalidInput(
            f"{path} defines {len(flows)} flows ({sorted(flows)})",
            "define exactly one Flow in the file or pick one with --flow NAME",
        )
    flow.validate()
    return flow
