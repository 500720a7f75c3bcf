"""The model registry: versions registered from runs, stages with an audit trail, promotion
gates, and the consumers that subscribe to a model.

Object model: a model (``NAMESPACE/NAME``) has numbered ``ModelVersion``s, each the value one
step of one succeeded run stored. A version moves between stages (``stages.TRANSITIONS``)
through ``ModelRegistry.promote``, which evaluates the target stage's gates
(``MetricAtLeast``, ``MetricAtMost``, ``MetricNotWorse``) and records a ``Transition``.
Everything is mirrored into the lifecycle graph (see ``mirror``).
"""

from reelgraph.flows.registry.gates import (
    Gate,
    GateResult,
    MetricAtLeast,
    MetricAtMost,
    MetricNotWorse,
    gate_from_dict,
)
from reelgraph.flows.registry.names import model_key, version_key
from reelgraph.flows.registry.registry import ModelRegistry, PromotionRefused
from reelgraph.flows.registry.stages import STAGES, TRANSITIONS, InvalidTransition
from reelgraph.flows.registry.store import (
    Consumer,
    DeclaredGate,
    ModelVersion,
    RegisteredModel,
    Transition,
)

__all__ = [
    "STAGES",
    "TRANSITIONS",
    "Consumer",
    "DeclaredGate",
    "Gate",
    "GateResult",
    "InvalidTransition",
    "MetricAtLeast",
    "MetricAtMost",
    "MetricNotWorse",
    "ModelRegistry",
    "ModelVersion",
    "PromotionRefused",
    "RegisteredModel",
    "Transition",
    "gate_from_dict",
    "model_key",
    "version_key",
]
