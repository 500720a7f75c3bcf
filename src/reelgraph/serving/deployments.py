"""Deployments in the lifecycle graph: which model version each environment serves.

One ``deployment`` node per environment a configuration uses
(``rg://deployment/personalization/unified-recommender-online``), with the canvases it
hosts; the serving version is ``deployed_as`` it. A swap moves that edge in one change set,
so impact analysis from a dataset reaches the live deployments and no stale one.
"""

from __future__ import annotations

from reelgraph.flows.registry import model_key, version_key
from reelgraph.graph import Graph, NodeKey
from reelgraph.serving.config import ENVIRONMENTS, ServingConfig

AUTHOR = "reelgraph serving"


def deployment_key(model: str, environment: str) -> NodeKey:
    key = model_key(model)
    return NodeKey("deployment", key.namespace, f"{key.name}-{environment}")


def record_deployment(graph: Graph, config: ServingConfig, version: int,
                      previous: int | None) -> list[NodeKey]:
    """Point each used environment's deployment at ``version`` (away from ``previous``)."""
    written = []
    with graph.batch(author=AUTHOR) as b:
        for environment in ENVIRONMENTS:
            canvases = config.canvases_in(environment)
            if not canvases:
                continue
            key = deployment_key(config.model, environment)
            b.add(key, owner=model_key(config.model).namespace,
                  description=f"{config.model} hosted {environment}: {', '.join(canvases)}",
                  tags=[environment],
                  properties={"environment": environment, "canvases": list(canvases),
                              "stage": config.stage, "version": version})
            if previous is not None and previous != version:
                b.unlink(version_key(config.model, previous), "deployed_as", key)
            b.link(version_key(config.model, version), "deployed_as", key)
            written.append(key)
    return written
