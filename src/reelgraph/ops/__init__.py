"""RecSysOps: detect, diagnose and resolve issues of the served recommender.

Object model: serving records every answered request through ``ImpressionLog`` (Parquet,
off the request path). ``RecSysOps`` holds the monitors (graph nodes that watch datasets,
model inputs and deployments), learns each one's reference, runs checks (a time series of
signals in the metadata database), raises alerts routed to owners and opens or joins
incidents (graph nodes with ``affects`` edges and a timeline). ``diagnose`` says inputs or
model with evidence and names candidate root causes; ``replay`` reproduces a logged answer
and ``explain`` says which of its inputs drove each item's score;
``shadow`` runs a candidate version beside production on replayed traffic (a promotion
gate); ``rollback``, rule overlays (``Overlay``) and ``redeploy`` are the hotfixes; ``resolve``
closes an incident with its review.
"""

from reelgraph.ops.checks import Finding, Reference
from reelgraph.ops.diagnosis import Diagnosis, diagnose
from reelgraph.ops.explain import Explanation, explain
from reelgraph.ops.impressions import ImpressionLog
from reelgraph.ops.incidents import Incident, open_incidents
from reelgraph.ops.launches import forecast
from reelgraph.ops.monitors import Monitor
from reelgraph.ops.operations import CheckReport, RecSysOps
from reelgraph.ops.outcomes import join_outcomes, read_impressions
from reelgraph.ops.overlay import Overlay
from reelgraph.ops.replay import ReplayReport, fidelity, replay
from reelgraph.ops.resolution import REVIEW, add_rule, redeploy, remove_rule, resolve, rollback
from reelgraph.ops.shadow import ShadowReport, default_outcomes, shadow

__all__ = [
    "REVIEW",
    "CheckReport",
    "Diagnosis",
    "Explanation",
    "Finding",
    "ImpressionLog",
    "Incident",
    "Monitor",
    "Overlay",
    "RecSysOps",
    "Reference",
    "ReplayReport",
    "ShadowReport",
    "add_rule",
    "default_outcomes",
    "diagnose",
    "explain",
    "fidelity",
    "forecast",
    "join_outcomes",
    "open_incidents",
    "read_impressions",
    "redeploy",
    "remove_rule",
    "replay",
    "resolve",
    "rollback",
    "shadow",
]
