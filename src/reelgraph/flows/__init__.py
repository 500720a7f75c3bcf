"""The paved road: flows of plain-Python steps, versioned artifacts, runs, resume, executors.

Object model: a ``Flow`` holds ``Step``s (functions whose argument names are their inputs);
``Runner.run`` turns it into tasks on an executor (``local`` processes or ``ray``) and keeps
a ``RunRecord`` (with one ``TaskRecord`` per task) in the metadata database, each value in
the artifact store, and the run's lineage in the graph. ``Workspace`` opens all three.
"""

from reelgraph.flows.definition import Flow, FlowDefinitionError, Resources, Step, Trigger
from reelgraph.flows.events import Event, EventLog
from reelgraph.flows.leases import LEASE_S, Heartbeat
from reelgraph.flows.lineage import run_key
from reelgraph.flows.loader import load_flow
from reelgraph.flows.registry import ModelRegistry, gate_from_dict
from reelgraph.flows.runner import Progress, Runner
from reelgraph.flows.runs import RunRecord, RunStore, TaskRecord
from reelgraph.flows.task import StepContext
from reelgraph.flows.worker import EVENT_PARAM, Outcome, Worker
from reelgraph.flows.workspace import Workspace

__all__ = [
    "EVENT_PARAM",
    "LEASE_S",
    "Event",
    "EventLog",
    "Flow",
    "FlowDefinitionError",
    "Heartbeat",
    "ModelRegistry",
    "Outcome",
    "Progress",
    "Resources",
    "RunRecord",
    "RunStore",
    "Runner",
    "Step",
    "StepContext",
    "TaskRecord",
    "Trigger",
    "Worker",
    "Workspace",
    "gate_from_dict",
    "load_flow",
    "run_key",
]
