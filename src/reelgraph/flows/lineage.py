"""A run's lineage, written into the graph without the user writing graph code.

The flow is a ``job`` node, the run a ``run`` node (``run_of`` the job) that ``reads`` every
node its steps declared or recorded (and every ``rg://`` URI among its parameters), and each
step's stored value is an ``artifact`` node ``produced_by`` the run.
"""

from __future__ import annotations

from reelgraph.flows.definition import Flow
from reelgraph.flows.runs import RunRecord
from reelgraph.graph import Graph, NodeKey

RUN_KIND, JOB_KIND, ARTIFACT_KIND = "run", "job", "artifact"


def run_key(namespace: str, flow: str, run_id: str) -> NodeKey:
    """The graph key of a flow's run."""
    return NodeKey(RUN_KIND, namespace, f"{flow}/{run_id}")


def artifact_key(run: RunRecord, step: str) -> NodeKey:
    return NodeKey(ARTIFACT_KIND, run.namespace, f"{run.flow}/{step}", run.id)


def _reads(flow: Flow, run: RunRecord) -> list[str]:
    uris = {uri for step in flow.steps.values() for uri in step.reads}
    uris |= {uri for task in run.tasks for uri in task.reads}
    uris |= {v for v in run.params.values() if isinstance(v, str) and v.startswith("rg://")}
    return sorted(uris)


def record_run(graph: Graph, flow: Flow, run: RunRecord) -> list[str]:
    """Write (or update) the run's lineage; returns the read URIs not found in the graph."""
    key = run_key(run.namespace, run.flow, run.id)
    missing = [uri for uri in _reads(flow, run) if graph.get(uri) is None]
    reads = [uri for uri in _reads(flow, run) if uri not in missing]
    with graph.batch(author=f"flow:{flow.name}") as b:
        b.add(flow.job_key, owner=flow.owner, description=flow.description,
              properties={"steps": list(flow.steps), "code_hash": flow.code_hash})
        b.add(key, owner=flow.owner, description=f"run {run.id} of flow {flow.name}",
              tags=[run.status],
              properties={"status": run.status, "params": _plain(run.params),
                          "code_hash": run.code_hash, "git_commit": run.git_commit,
                          "seed": run.seed, "executor": run.executor,
                          "started_at": run.started_at, "ended_at": run.ended_at,
                          "resume_of": run.resume_of, "trigger": run.trigger,
                          "unresolved_reads": missing})
        b.link(key, "run_of", flow.job_key)
        for uri in reads:
            b.link(key, "reads", uri)
        for step in flow.steps:
            refs = [t.artifact for t in run.tasks if t.step == step and t.artifact]
            if not refs:
                continue
            artifact = artifact_key(run, step)
            b.add(artifact, owner=flow.owner, properties={
                "step": step, "format": refs[0].format, "type": refs[0].type_name,
                "digests": [r.digest for r in refs], "bytes": sum(r.size for r in refs)})
            b.link(artifact, "produced_by", key)
    return missing


def _plain(params: dict[str, object]) -> dict[str, object]:
    """Parameters as JSON the graph accepts (anything unusual becomes its repr)."""
    plain: dict[str, object] = {}
    for name, value in params.items():
        plain[name] = value if isinstance(value, str | int | float | bool | type(None)) else repr(
            value)
    return plain

