"""The registry as seen in the lifecycle graph (the SQL tables are the record; this mirrors them).

- the model ``rg://model/NS/NAME`` and each version ``rg://model/NS/NAME@V`` (``version_of``
  the model), with the stage, metrics, signature and artifact digest as properties;
- each version ``produced_by`` its run, ``trained_on`` every dataset, feature and embedding
  the run ``reads`` (and ``derived_from`` every model it read, e.g. for fine-tuning);
- each consumer ``rg://consumer/NS/NAME``, ``consumed_by`` from the model node and from the
  version in production. The second edge is what puts consumers in the impact analysis of
  anything upstream: ``version_of`` points up, so walking down from a dataset reaches the
  production version but never the model node. When production moves to another version,
  the edges move with it (the old ones are closed, so ``as_of`` answers stay right).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reelgraph.flows.registry.names import consumer_key, model_key, version_key
from reelgraph.flows.registry.stages import PRODUCTION
from reelgraph.flows.registry.store import Consumer, ModelVersion, RegisteredModel
from reelgraph.graph import Batch, Graph, NodeKey

AUTHOR = "registry"
_DATA = ("dataset", "feature", "embedding")


def run_inputs(graph: Graph, run: NodeKey) -> list[tuple[str, NodeKey]]:
    """(edge kind, node) for each input of the run node that a model version records."""
    if graph.get(run) is None:
        return []
    found = []
    for direction, edge, other in graph.edges(run):
        if direction != "out" or edge.kind != "reads":
            continue
        if other.kind in _DATA:
            found.append(("trained_on", other.key))
        elif other.kind == "model":
            found.append(("derived_from", other.key))
    return sorted(found)


def _model(b: Batch, model: RegisteredModel) -> None:
    b.add(model_key(model.name), owner=model.owner, description=model.description,
          properties={"registry": True, "production": model.production})


def _version(b: Batch, v: ModelVersion, kept: Mapping[str, Any] | None = None) -> None:
    """The version's node; ``kept``: properties others stored on it (e.g. the recommender's
    ``task_affinity``), which a stage move must not drop."""
    b.add(version_key(v.model, v.version), owner=v.owner, description=v.description,
          tags=[v.stage],
          properties={**(kept or {}), "stage": v.stage, "metrics": v.metrics,
                      "signature": v.signature, "artifact": v.artifact.to_dict(),
                      "run_id": v.run_id, "step": v.step})


def registered(graph: Graph, model: RegisteredModel, v: ModelVersion, run: NodeKey | None,
               inputs: Sequence[tuple[str, NodeKey]]) -> None:
    with graph.batch(AUTHOR) as b:
        _model(b, model)
        _version(b, v)
        key = version_key(v.model, v.version)
        b.link(key, "version_of", model_key(model.name))
        if run is not None:
            b.link(key, "produced_by", run)
        for kind, node in inputs:
            b.link(key, kind, node)


def staged(graph: Graph, model: RegisteredModel, moved: Sequence[tuple[str, ModelVersion]],
           consumers: Sequence[Consumer]) -> None:
    """New stages of versions, each given with its stage before the move; consumers follow
    the version in production."""
    with graph.batch(AUTHOR) as b:
        _model(b, model)
        for before, v in moved:
            key = version_key(v.model, v.version)
            node = graph.get(key)
            _version(b, v, None if node is None else node.properties)
            for c in consumers:
                if v.stage == PRODUCTION:
                    b.link(key, "consumed_by", consumer_key(c.consumer), via="registry")
                elif before == PRODUCTION:
                    b.unlink(key, "consumed_by", consumer_key(c.consumer))


def subscribed(graph: Graph, c: Consumer, production: ModelVersion | None) -> None:
    with graph.batch(AUTHOR) as b:
        target = consumer_key(c.consumer)
        if graph.get(target) is None:  # a consumer already in the graph keeps its fields
            b.add(target, owner=c.owner, description=f"consumer of model {c.model}")
        b.link(model_key(c.model), "consumed_by", target, via="registry")
        if production is not None:
            b.link(version_key(c.model, production.version), "consumed_by", target,
                   via="registry")


def unsubscribed(graph: Graph, c: Consumer, production: ModelVersion | None) -> None:
    with graph.batch(AUTHOR) as b:
        target = consumer_key(c.consumer)
        b.unlink(model_key(c.model), "consumed_by", target)
        if production is not None:
            b.unlink(version_key(c.model, production.version), "consumed_by", target)
