"""``MetaflowSource``: Metaflow flows, runs and artifacts as lineage nodes, via its client API.

A team that keeps its Metaflow flows sees them next to reelgraph's own runs, with the same
node shapes (see ``lineage.py``):

- a Metaflow flow is a ``job`` node, ``rg://job/NAMESPACE/FLOW``;
- a run is a ``run`` node ``rg://run/NAMESPACE/FLOW/RUN_ID`` that is ``run_of`` the job, with
  its status, success, start and end times (microseconds since the epoch, UTC), parameters
  and steps (task counts, success, times) as properties and its Metaflow tags as node tags;
- every data artifact a run's tasks stored is an ``artifact`` node
  ``rg://artifact/NAMESPACE/FLOW/NAME@RUN_ID`` ``produced_by`` the run (its steps and the
  distinct SHA-1s Metaflow recorded; values are never loaded). Metaflow's internal
  artifacts (``_*``, ``name``) and the flow's parameters are not artifacts.

Entity ids are ``FLOW``, ``FLOW/RUN_ID`` and ``FLOW/RUN_ID/ARTIFACT`` (the last is not a
Metaflow pathspec: steps are properties of the run, not entities). The source reads the
metadata service Metaflow is configured for, or the local metadata under ``root`` (the
directory that holds ``.metaflow``), always across every user's namespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reelgraph.core import InvalidInput, MissingDependency
from reelgraph.flows.lineage import ARTIFACT_KIND, JOB_KIND, run_key
from reelgraph.graph import Graph, NodeKey
from reelgraph.graph.adapters import EntityState, Ingestor

Json = dict[str, Any]

SOURCE = "metaflow"
_INTERNAL = frozenset({"name"})  # Metaflow stores the flow's name in every task


def _us(when: datetime | None) -> int | None:
    # Metaflow reports naive local times built from epoch milliseconds.
    return int(when.timestamp() * 1_000_000) if when is not None else None


def _attempt_failed(task: Any) -> bool:
    """The task's latest attempt ended and did not succeed (Metaflow's own metadata)."""
    return bool(task.metadata_dict.get("attempt_ok") == "False")


@dataclass(frozen=True)
class _Artifact:
    steps: tuple[str, ...]
    shas: tuple[str, ...]


class MetaflowSource:
    """``SourceAdapter`` over Metaflow's client API.

    Give each Metaflow deployment its own ``source`` name: ``resync`` retires the nodes of
    its source that the deployment no longer has.
    """

    def __init__(self, root: str | Path | None = None, namespace: str = "metaflow",
                 owner: str = "", source: str = SOURCE) -> None:
        try:
            import metaflow
        except ModuleNotFoundError:
            raise MissingDependency("metaflow", "importing Metaflow runs") from None
        NodeKey(JOB_KIND, namespace, "probe")  # validates the namespace up front
        if root is not None and not (Path(root) / ".metaflow").is_dir():
            raise InvalidInput(
                f"{root} holds no .metaflow directory of local Metaflow metadata",
                "pass the directory you ran `python flow.py run` in (or leave root out to "
                "use Metaflow's configured metadata service)",
            )
        self._mf: Any = metaflow  # untyped: calls go through Any
        self.root = Path(root).resolve() if root is not None else None
        self.namespace = namespace
        self.owner = owner
        self._source = source
        self._finished: dict[str, dict[str, _Artifact]] = {}  # finished runs never change

    # --- SourceAdapter -------------------------------------------------------------------

    @property
    def source(self) -> str:
        return self._source

    def key(self, entity_id: str) -> NodeKey:
        parts = entity_id.split("/")
        if not all(parts) or len(parts) > 3:
            raise InvalidInput(f"{entity_id!r} is not a Metaflow entity id",
                               "use FLOW, FLOW/RUN_ID or FLOW/RUN_ID/ARTIFACT")
        if len(parts) == 1:
            return NodeKey(JOB_KIND, self.namespace, parts[0])
        if len(parts) == 2:
            return run_key(self.namespace, parts[0], parts[1])
        return NodeKey(ARTIFACT_KIND, self.namespace, f"{parts[0]}/{parts[2]}", parts[1])

    def list_ids(self) -> Iterator[str]:
        self._select()
        for flow in self._mf.Metaflow():
            yield flow.id
            for run in flow:
                yield run.pathspec
                for name in self._artifacts(run):
                    yield f"{run.pathspec}/{name}"

    def fetch(self, entity_id: str) -> EntityState | None:
        self.key(entity_id)  # refuses malformed ids
        self._select()
        parts = entity_id.split("/")
        try:
            if len(parts) == 1:
                return self._flow_state(self._mf.Flow(entity_id))
            run = self._mf.Run("/".join(parts[:2]))
        except self._mf.exception.MetaflowNotFound:
            return None
        if len(parts) == 2:
            return self._run_state(run)
        artifact = self._artifacts(run).get(parts[2])
        return self._artifact_state(run, parts[2], artifact) if artifact else None

    # --- reading Metaflow ----------------------------------------------------------------

    def _select(self) -> None:
        """Point Metaflow's (process-global) client at our metadata, across all users."""
        if self.root is not None:
            self._mf.metadata(f"local@{self.root}")
        self._mf.namespace(None)

    def _artifacts(self, run: Any) -> dict[str, _Artifact]:
        cached = self._finished.get(run.pathspec)
        if cached is not None:
            return cached
        steps: dict[str, set[str]] = {}
        shas: dict[str, set[str]] = {}
        params = set(self._parameters(run))
        for step in run:
            for task in step:
                for artifact in task:
                    name = artifact.id
                    if name.startswith("_") or name in _INTERNAL or name in params:
                        continue
                    steps.setdefault(name, set()).add(step.id)
                    shas.setdefault(name, set()).add(artifact.sha)
        found = {name: _Artifact(tuple(sorted(steps[name])), tuple(sorted(shas[name])))
                 for name in sorted(steps)}
        if run.finished:
            self._finished[run.pathspec] = found
        return found

    def _graph_info(self, run: Any) -> dict[str, Any]:
        try:
            info: dict[str, Any] = run["start"].task["_graph_info"].data
        except (KeyError, self._mf.exception.MetaflowNotFound):
            return {}
        return info

    def _parameters(self, run: Any) -> list[str]:
        return [p["name"] for p in self._graph_info(run).get("parameters", [])]

    def _flow_state(self, flow: Any) -> EntityState:
        latest = flow.latest_run
        info = self._graph_info(latest) if latest is not None else {}
        return EntityState(
            owner=self.owner,
            description=f"Metaflow flow {flow.id}",
            tags=("metaflow", *sorted(flow.tags)),
            properties={"metaflow_pathspec": flow.pathspec, "file": info.get("file"),
                        "steps": list(info.get("steps", {})),
                        "created_at": _us(flow.created_at)},
        )

    def _run_state(self, run: Any) -> EntityState:
        start = run["start"].task if "start" in run else None
        params: Json = {}
        for name in self._parameters(run):
            value = start[name].data if start is not None and name in start else None
            params[name] = value if isinstance(value, str | int | float | bool | type(None)) \
                else repr(value)
        steps: Json = {}
        task_failed = False
        for step in run:
            tasks = list(step)
            task_failed = task_failed or any(_attempt_failed(t) for t in tasks)
            steps[step.id] = {"tasks": len(tasks),
                              "successful": all(t.successful for t in tasks),
                              "started_at": _us(step.created_at),
                              "ended_at": _us(step.finished_at)}
        # Metaflow marks a run finished only when its end step succeeded; a failed task
        # leaves it "unfinished" for good, which is a failure, not a run still going (a
        # runtime killed outright leaves no trace, so its run stays "running").
        status = "succeeded" if run.successful else "failed" if task_failed else "running"
        user = next((t.split(":", 1)[1] for t in run.system_tags if t.startswith("user:")), "")
        flow_id = run.parent.id
        return EntityState(
            owner=self.owner or user,
            description=f"Metaflow run {run.pathspec}",
            tags=("metaflow", status, *sorted(run.tags)),
            properties={"metaflow_pathspec": run.pathspec, "status": status,
                        "successful": bool(run.successful), "finished": bool(run.finished),
                        "started_at": _us(run.created_at), "ended_at": _us(run.finished_at),
                        "params": params, "steps": steps, "executor": "metaflow",
                        "user": user},
            edges=((run_key(self.namespace, flow_id, run.id), "run_of",
                    NodeKey(JOB_KIND, self.namespace, flow_id)),),
        )

    def _artifact_state(self, run: Any, name: str, artifact: _Artifact) -> EntityState:
        flow_id = run.parent.id
        return EntityState(
            owner=self.owner,
            description=f"Metaflow artifact {name} of run {run.pathspec}",
            tags=("metaflow",),
            properties={"name": name, "steps": list(artifact.steps),
                        "sha1": list(artifact.shas), "metaflow_pathspec": run.pathspec},
            edges=((self.key(f"{run.pathspec}/{name}"), "produced_by",
                    run_key(self.namespace, flow_id, run.id)),),
        )


def import_metaflow(graph: Graph, source: MetaflowSource) -> int:
    """Make the graph agree with every flow, run and artifact the source has now.

    Nodes of entities Metaflow no longer has are retired. Returns the entities applied.
    """
    return Ingestor(graph, [source], author=source.source).resync(source)
