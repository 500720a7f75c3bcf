"""Computing a feature's missing values: batches as a flow run, failures kept per entity.

``compute_flow`` builds a two-step flow: ``batches`` (the list of batches, each with its
keys and its dependencies' values) and ``compute`` (a foreach over it), so the batches run
in parallel on the workspace's executor and the run is recorded with its lineage like any
other. A batch whose function raises is split and each entity computed alone, so one bad
entity costs only itself; a value that fails its type check is a failure of its entity.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

from reelgraph.core import ReelgraphError
from reelgraph.features.definition import FeatureDef
from reelgraph.flows import Flow


class ComputeFailed(ReelgraphError):
    """A feature's compute function failed for some entities (the others are stored)."""
    status_code = 500


@dataclass
class ComputeReport:
    """What one ``get_or_compute`` did. ``values`` has every key that has a value."""

    feature: str  # the feature version's URI
    values: dict[str, Any] = field(default_factory=dict)
    reused: int = 0  # keys already in the offline store (memoized)
    computed: list[str] = field(default_factory=list)  # keys this caller computed
    waited: list[str] = field(default_factory=list)  # keys another caller computed meanwhile
    failed: dict[str, str] = field(default_factory=dict)  # key -> error
    run_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Batch:
    keys: list[str]
    inputs: dict[str, dict[str, Any]]  # dependency name -> {key: value}


def _call(definition: FeatureDef, batch: Batch) -> tuple[dict[str, Any], dict[str, str]]:
    raw = definition.fn(keys=list(batch.keys), **batch.inputs, **definition.params)
    if not isinstance(raw, dict):
        raise TypeError(f"returned a {type(raw).__name__}, not a dict of key -> value")
    returned = {definition.entity.key(k): v for k, v in raw.items()}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in batch.keys:
        if key not in returned:
            errors[key] = "the function returned no value for this entity"
            continue
        try:
            values[key] = definition.value.check(definition.uri, key, returned[key])
        except ReelgraphError as exc:
            errors[key] = str(exc)
    return values, errors


def compute_batch(definition: FeatureDef, batch: Batch) -> dict[str, dict[str, Any]]:
    """``{"values": {key: value}, "errors": {key: message}}`` for one batch."""
    try:
        values, errors = _call(definition, batch)
    except Exception as exc:
        if len(batch.keys) == 1:
            detail = traceback.format_exception_only(exc)[-1].strip()
            return {"values": {}, "errors": {batch.keys[0]: detail}}
        values, errors = {}, {}
        for key in batch.keys:  # split: the other entities of the batch still get values
            alone = Batch([key], {n: {key: v[key]} for n, v in batch.inputs.items()})
            part = compute_batch(definition, alone)
            values.update(part["values"])
            errors.update(part["errors"])
    return {"values": values, "errors": errors}


def compute_flow(definition: FeatureDef, batches: list[Batch], reads: list[str]) -> Flow:
    flow = Flow(f"feature-{definition.name}", namespace=definition.namespace,
                description=f"compute missing values of {definition.uri}")
    @flow.step(reads=reads)
    def batches_of_keys() -> list[Batch]:
        return batches

    @flow.step(foreach="batches_of_keys")
    def compute(item: Batch) -> dict[str, dict[str, Any]]:
        return compute_batch(definition, item)

    return flow


def batches_of(keys: list[str], inputs: dict[str, dict[str, Any]], size: int) -> list[Batch]:
    return [Batch(chunk, {name: {k: values[k] for k in chunk} for name, values in inputs.items()})
            for chunk in (keys[i:i + size] for i in range(0, len(keys), size))]
