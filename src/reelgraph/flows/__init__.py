"""The paved road: flows of plain-Python steps, versioned artifacts, runs, resume, executors.

Object model: a ``Flow`` holds ``Step``s (functions whose argument names are their inputs);
``Runner.run`` turns it into tasks on an executor (``local`` processes or ``ray``) and keeps
a ``RunRecord`` (with one ``TaskRecord`` per task) in the metadata database, each value in
the artifact store, and the run's lineage in the graph. ``Workspace`` opens all three.
"""

from reelgraph.flows.definition import Flow, FlowDefinitionError, Resources, Step, Trigger
from reelgraph.flows.events import EventLog
from reelgraph.flows.leases import LEASE_S, Heartbeat
from reelgraph.flows.loader import load_flow
from reelgraph.flows.runner import Runner
from reelgraph.flows.runs import RunRecord, RunStore, TaskRecord
from reelgraph.flows.task import StepContext
from reelgraph.flows.worker import EVENT_PARAM, Worker
from reelgraph.flows.workspace import Workspace

__all__ = [
    "EVENT_PARAM",
    "LEASE_S",
    "EventLog",
    "Flow",
    "FlowDefinitionError",
    "Heartbeat",
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
    "load_flow",
]
