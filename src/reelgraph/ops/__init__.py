"""RecSysOps: detect, diagnose and resolve issues of the served recommender.

Object model: serving records every answered request through ``ImpressionLog`` (Parquet,
off the request path). ``RecSysOps`` holds the monitors (graph nodes that watch datasets,
model inputs and deployments), learns each one's reference, runs checks (a time series of
signals in the metadata database), raises alerts routed to owners and opens or joins
incidents (graph nodes with ``affects`` edges and a timeline). ``diagnose`` says inputs or
model with evidence and names candidate root causes; ``replay`` reproduces a logged answer
and ``explain`` says which of its inputs drove each item's score;
``shadow`` runs a candidate version beside production on replayed traffic (a promotion
gate) and a canary (``start_canary``, ``check_canary``) serves one to a share of members and
aborts itself when it degrades; ``rollback``, rule overlays and canvas switches (applied by
the ``Overlay``), nearline ``invalidate`` / ``recompute`` / ``restore`` and ``redeploy``
are the hotfixes; ``resolve`` closes an incident with its review.
"""

from reelgraph.ops.canary import (
    CanaryCheck,
    check_canary,
    promote_canary,
    start_canary,
    stop_canary,
)
from reelgraph.ops.checks import Finding, Reference
from reelgraph.ops.diagnosis import Diagnosis, diagnose
from reelgraph.ops.explain import Explanation, explain
from reelgraph.ops.impressions import ImpressionLog
from reelgraph.ops.incidents import Incident, open_incidents
from reelgraph.ops.invalidation import invalidate, recompute, restore
from reelgraph.ops.launches import forecast
from reelgraph.ops.monitors import Monitor
from reelgraph.ops.operations import CheckReport, RecSysOps
from reelgraph.ops.outcomes import join_outcomes, read_impressions
from reelgraph.ops.overlay import Overlay
from reelgraph.ops.replay import ReplayReport, fidelity, replay
from reelgraph.ops.resolution import REVIEW, add_rule, redeploy, remove_rule, resolve, rollback
from reelgraph.ops.shadow import ShadowReport, default_outcomes, shadow
from reelgraph.ops.store import Alert, Canary, Invalidation, Switch
from reelgraph.ops.switches import end_switch, switch_canvas

__all__ = [
    "REVIEW",
    "Alert",
    "Canary",
    "CanaryCheck",
    "CheckReport",
    "Diagnosis",
    "Explanation",
    "Finding",
    "ImpressionLog",
    "Incident",
    "Invalidation",
    "Monitor",
    "Overlay",
    "RecSysOps",
    "Reference",
    "ReplayReport",
    "ShadowReport",
    "Switch",
    "add_rule",
    "check_canary",
    "default_outcomes",
    "diagnose",
    "end_switch",
    "explain",
    "fidelity",
    "forecast",
    "invalidate",
    "join_outcomes",
    "open_incidents",
    "promote_canary",
    "read_impressions",
    "recompute",
    "redeploy",
    "remove_rule",
    "replay",
    "resolve",
    "restore",
    "rollback",
    "shadow",
    "start_canary",
    "stop_canary",
    "switch_canvas",
]
