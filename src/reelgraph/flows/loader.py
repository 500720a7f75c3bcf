"""Load a flow from a Python file, as ``reelgraph run FILE`` does."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

from reelgraph.core.errors import InvalidInput, NotFound
from reelgraph.flows.definition import Flow

FLOW_MODULE_PREFIX = "reelgraph_flow_"


def load_flow(path: str | Path, name: str | None = None) -> Flow:
    """The ``Flow`` defined in the file (the one named ``name`` if it defines several)."""
    file = Path(path).resolve()
    if not file.is_file():
        raise NotFound(f"no flow file at {path}", "pass the path of a .py file defining a Flow")
    digest = hashlib.sha256(str(file).encode()).hexdigest()[:8]
    module_name = f"{FLOW_MODULE_PREFIX}{file.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"{path} is not a Python file", "pass a .py file defining a Flow")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # workers unpickle steps by module name
    try:
        spec.loader.exec_module(module)
    except InvalidInput:
        del sys.modules[module_name]
        raise
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
