"""``/api/v1/registry``: model versions, stage moves with their gates and audit, consumers.

A model is ``NAMESPACE/NAME``, which is two path segments here:
``GET /api/v1/registry/models/personalization/popularity``. Writes need the bearer token.
A promotion refused by a gate answers 409 with the failing checks and their numbers
(``gates`` in the error body); the refused attempt is kept in the audit.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from reelgraph.api.auth import require_read, require_write
from reelgraph.api.deps import get_registry
from reelgraph.api.errors import error_body
from reelgraph.api.schemas.registry import (
    AuditOut,
    ConsumerList,
    ConsumerOut,
    GateIn,
    GateList,
    GateOut,
    ModelList,
    ModelOut,
    PromoteIn,
    RegisterIn,
    SubscribeIn,
    TransitionOut,
    VersionOut,
)
from reelgraph.flows import ModelRegistry, gate_from_dict

Json = dict[str, Any]

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such model, version, run, step, gate or consumer"},
    409: {"description": "a stage move that is not allowed, a run that did not succeed, or a "
                         "promotion refused by its gates",
          "content": {"application/json": {"example": error_body(
              "PromotionRefused",
              "promotion of personalization/popularity v4 to production refused by its gates: "
              "ndcg@10 = 0.212 is worse than production v3's 0.25 by 0.038, more than the "
              "margin 0.01",
              "improve the model and register a new version, or change the gate",
              gates=[{"gate": "metric_not_worse:ndcg@10", "passed": False,
                      "detail": "ndcg@10 = 0.212 is worse than production v3's 0.25 by 0.038, "
                                "more than the margin 0.01"}])}}},
    422: {"description": "malformed input: a bad name, metric, gate or stage"},
}


reads = APIRouter(dependencies=[Depends(require_read)], responses=_ERRORS)
writes = APIRouter(dependencies=[Depends(require_write)], responses=_ERRORS)
_MODEL = "/models/{namespace}/{name}"


@reads.get("/models", response_model=ModelList, summary="Every registered model")
def list_models(registry: ModelRegistry = Depends(get_registry)) -> Json:
    return {"models": [m.to_dict() for m in registry.models()]}


@reads.get(_MODEL, response_model=ModelOut, summary="A model with all its versions")
def show_model(namespace: str, name: str, registry: ModelRegistry = Depends(get_registry)
               ) -> Json:
    return registry.model(f"{namespace}/{name}").to_dict()


@reads.get(_MODEL + "/versions/{version}", response_model=VersionOut, summary="One version")
def show_version(namespace: str, name: str, version: int,
                 registry: ModelRegistry = Depends(get_registry)) -> Json:
    return registry.version(f"{namespace}/{name}", version).to_dict()


@reads.get(_MODEL + "/stages/{stage}", response_model=VersionOut,
           summary="The version in a stage (e.g. production)")
def version_in_stage(namespace: str, name: str, stage: str,
                     registry: ModelRegistry = Depends(get_registry)) -> Json:
    return registry.version(f"{namespace}/{name}", stage=stage).to_dict()


@reads.get(_MODEL + "/audit", response_model=AuditOut,
           summary="Every stage move, applied or refused, oldest first")
def audit(namespace: str, name: str,
          version: int | None = Query(None, description="only this version's moves"),
          registry: ModelRegistry = Depends(get_registry)) -> Json:
    model = f"{namespace}/{name}"
    return {"model": model,
            "transitions": [t.to_dict() for t in registry.history(model, version)]}


@reads.get(_MODEL + "/gates", response_model=GateList, summary="The declared gates")
def list_gates(namespace: str, name: str, stage: str | None = None,
               registry: ModelRegistry = Depends(get_registry)) -> Json:
    model = f"{namespace}/{name}"
    return {"model": model, "gates": [g.to_dict() for g in registry.gates(model, stage)]}


@reads.get(_MODEL + "/consumers", response_model=ConsumerList, summary="Who uses the model")
def list_consumers(namespace: str, name: str, registry: ModelRegistry = Depends(get_registry)
                   ) -> Json:
    model = f"{namespace}/{name}"
    return {"model": model, "consumers": [c.to_dict() for c in registry.consumers(model)]}


@writes.post(_MODEL + "/versions", response_model=VersionOut, status_code=201,
             summary="Register a version from a run")
def register(namespace: str, name: str, body: RegisterIn,
             registry: ModelRegistry = Depends(get_registry)) -> Json:
    model = f"{namespace}/{name}"
    number = registry.register(model, body.run_id, body.step, body.metrics, body.signature,
                               body.description, body.owner, body.who)
    return registry.version(model, number).to_dict()


@writes.post(_MODEL + "/versions/{version}/stage", response_model=TransitionOut,
             summary="Move a version to a stage, through its gates")
def promote(namespace: str, name: str, version: int, body: PromoteIn,
            registry: ModelRegistry = Depends(get_registry)) -> Json:
    return registry.promote(f"{namespace}/{name}", version, body.stage, body.who,
                            body.why).to_dict()


@writes.post(_MODEL + "/gates", response_model=GateOut, summary="Declare (or replace) a gate")
def declare_gate(namespace: str, name: str, body: GateIn,
                 registry: ModelRegistry = Depends(get_registry)) -> Json:
    return registry.declare_gate(f"{namespace}/{name}", gate_from_dict(body.gate), body.stage,
                                 body.who).to_dict()


@writes.delete(_MODEL + "/gates", status_code=204, summary="Remove a gate")
def remove_gate(namespace: str, name: str,
                gate: str = Query(examples=["metric_not_worse:ndcg@10"]),
                stage: str = "production",
                registry: ModelRegistry = Depends(get_registry)) -> None:
    registry.remove_gate(f"{namespace}/{name}", gate, stage)


@writes.post(_MODEL + "/consumers", response_model=ConsumerOut,
             summary="Subscribe a consumer (repeating it changes nothing)")
def subscribe(namespace: str, name: str, body: SubscribeIn,
              registry: ModelRegistry = Depends(get_registry)) -> Json:
    return registry.subscribe(f"{namespace}/{name}", body.consumer, body.owner,
                              body.who).to_dict()


@writes.delete(_MODEL + "/consumers", status_code=204, summary="Unsubscribe a consumer")
def unsubscribe(namespace: str, name: str, consumer: str = Query(examples=["messaging/x"]),
                registry: ModelRegistry = Depends(get_registry)) -> None:
    registry.unsubscribe(f"{namespace}/{name}", consumer)


router = APIRouter(prefix="/api/v1/registry", tags=["registry"])
router.include_router(reads)
router.include_router(writes)
