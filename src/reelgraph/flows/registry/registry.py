"""``ModelRegistry``: model versions from runs, stages with an audit, gates, consumers.

    registry = ModelRegistry(workspace)
    v = registry.register("personalization/popularity", run_id=run.id, step="model",
                          metrics={"ndcg@10": 0.25}, signature={"inputs": ..., "outputs": ...})
    registry.declare_gate("personalization/popularity", MetricNotWorse("ndcg@10", 0.01))
    registry.promote("personalization/popularity", v, "staging", who="ana", why="offline eval")
    registry.promote("personalization/popularity", v, "production", who="ana", why="A/B won")
    model = registry.load("personalization/popularity")          # the production version

The SQL tables are the record and each write is one transaction under the database's write
lock; the graph mirror (see ``mirror``) is written right after it commits. Bad input (an
unknown model or version, a run that did not succeed, a stage move that is not allowed, a
gate whose metric is missing) raises before anything is stored. A promotion refused by its
gates changes no stage but IS recorded in the audit, as ``outcome="refused"`` with each
gate's numbers, because who tried to ship what, and why it was stopped, is part of the trail.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from reelgraph.core import Conflict, InvalidInput, NotFound, now_us
from reelgraph.flows.lineage import run_key
from reelgraph.flows.registry import mirror
from reelgraph.flows.registry.gates import Baseline, Gate, GateResult
from reelgraph.flows.registry.names import consumer_key, model_key
from reelgraph.flows.registry.stages import (
    ARCHIVED,
    GATED_STAGES,
    NONE,
    PRODUCTION,
    STAGING,
    check_stage,
    check_transition,
)
from reelgraph.flows.registry.store import (
    Consumer,
    DeclaredGate,
    ModelVersion,
    RegisteredModel,
    RegistryStore,
    Transition,
)
from reelgraph.flows.workspace import Workspace

APPLIED, REFUSED = "applied", "refused"


class PromotionRefused(Conflict):
    """A gate failed: the version stays where it was; the attempt is in the audit."""

    def __init__(self, model: str, version: int, stage: str,
                 results: Sequence[GateResult]) -> None:
        self.results = tuple(results)
        failed = "; ".join(r.detail for r in self.results if not r.passed)
        super().__init__(
            f"promotion of {model} v{version} to {stage} refused by its gates: {failed}",
            "improve the model and register a new version, or change the gate "
            "(`reelgraph models gates`) if the bar itself is wrong",
        )

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "gates": [r.to_dict() for r in self.results]}


def _metrics(metrics: Mapping[str, Any] | None) -> dict[str, float]:
    plain: dict[str, float] = {}
    for name, value in (metrics or {}).items():
        if (not isinstance(name, str) or not name or isinstance(value, bool)
                or not isinstance(value, int | float) or not math.isfinite(value)):
            raise InvalidInput(f"metric {name!r} = {value!r} is not a named finite number",
                               "give metrics as {name: number}, e.g. {'ndcg@10': 0.25}")
        plain[name] = float(value)
    return plain


def _json_object(value: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    plain = dict(value or {})
    try:
        json.dumps(plain, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"the {what} is not plain JSON ({exc})",
                           "use only strings, numbers, booleans, null, lists and objects"
                           ) from None
    return plain


class ModelRegistry:
    """Model versions registered from runs, their stages and promotion gates, in the workspace's
    database."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.store = RegistryStore(workspace.database.engine)

    # --- reads --------------------------------------------------------------------------

    def models(self) -> list[RegisteredModel]:
        with self.store.read() as conn:
            return self.store.models(conn)

    def model(self, name: str) -> RegisteredModel:
        """The model with every version, oldest first."""
        with self.store.read() as conn:
            model = self._model(conn, name)
            versions = tuple(self.store.versions(conn, name))
        return RegisteredModel(model.name, model.description, model.owner, model.created_at,
                               model.latest, model.production, versions)

    def version(self, name: str, version: int | None = None, stage: str | None = None
                ) -> ModelVersion:
        """One version by number, or the newest in ``stage`` (default: production)."""
        with self.store.read() as conn:
            return self._pick(conn, name, version, stage)

    def load(self, name: str, stage: str | None = None, version: int | None = None) -> Any:
        """The stored value of a version: the one in ``stage`` (default production), or
        version number ``version``."""
        return self.ws.artifacts.get(self.version(name, version, stage).artifact)

    def history(self, name: str, version: int | None = None) -> list[Transition]:
        """The audit, oldest first: every stage move, applied or refused."""
        with self.store.read() as conn:
            self._model(conn, name)
            if version is not None and not _storable(version):
                return []
            return self.store.transitions(conn, name, version)

    def gates(self, name: str, stage: str | None = None) -> list[DeclaredGate]:
        with self.store.read() as conn:
            self._model(conn, name)
            return self.store.gates(conn, name, stage and check_stage(stage, GATED_STAGES))

    def consumers(self, name: str) -> list[Consumer]:
        with self.store.read() as conn:
            self._model(conn, name)
            return self.store.consumers(conn, name)

    def _model(self, conn: Connection, name: str) -> RegisteredModel:
        model_key(name)  # a malformed name is InvalidInput, not "not found"
        model = self.store.model(conn, name)
        if model is None:
            raise NotFound(f"no model named {name!r} in the registry",
                           "list models with `reelgraph models list`, or register a version "
                           "with `reelgraph models register`")
        return model

    def _pick(self, conn: Connection, name: str, version: int | None, stage: str | None
              ) -> ModelVersion:
        self._model(conn, name)
        if version is not None:
            # A number no database column holds (past int64) is simply no version.
            found = self.store.version(conn, name, version) if _storable(version) else None
            if found is None:
                raise NotFound(f"model {name} has no version {version}",
                               f"list its versions with `reelgraph models show {name}`")
            return found
        stage = check_stage(stage or PRODUCTION)
        in_stage = self.store.versions(conn, name, stage)
        if not in_stage:
            raise NotFound(f"model {name} has no version in {stage}",
                           f"promote one: `reelgraph models promote {name} VERSION {stage}`")
        return in_stage[-1]

    # --- writes -------------------------------------------------------------------------

    def register(
        self,
        name: str,
        run_id: str,
        step: str = "model",
        metrics: Mapping[str, Any] | None = None,
        signature: Mapping[str, Any] | None = None,
        description: str = "",
        owner: str = "",
        who: str = "",
    ) -> int:
        """A new version (1, 2, ... per model) of the value ``step`` of run ``run_id`` stored.

        The run must have succeeded. Numbers are handed out under the write lock, so
        concurrent registrations get distinct, consecutive versions.
        """
        model_key(name)
        plain_metrics = _metrics(metrics)
        plain_signature = _json_object(signature, "signature")
        run = self.ws.runs.get(run_id)
        if run.status != "succeeded":
            raise Conflict(f"run {run_id} {run.status}; only a run that succeeded can be "
                           "registered",
                           f"resume it (`reelgraph runs resume {run_id}`) and register the new "
                           "run")
        artifact = self.ws.runs.artifact(run_id, step)
        run_node = run_key(run.namespace, run.flow, run.id)
        inputs = mirror.run_inputs(self.ws.graph, run_node)
        with self.store.write() as conn:
            at = now_us()
            # The model's own owner and description are those of its first registration.
            self.store.add_model(conn, name, description, owner, at)
            number = self.store.next_version(conn, name)
            version = ModelVersion(name, number, NONE, run_id, step, artifact, plain_metrics,
                                   plain_signature, description, owner, who or owner, at)
            self.store.add_version(conn, version)
            model = self._model(conn, name)
        present = run_node if self.ws.graph.get(run_node) is not None else None
        mirror.registered(self.ws.graph, model, version, present, inputs)
        return number

    def promote_to_production(self, name: str, version: int, who: str, why: str = ""
                              ) -> list[Transition]:
        """Move a version through staging into production (each stage's gates apply); the
        moves made, none for a version already in production."""
        moves = []
        for stage in (STAGING, PRODUCTION):
            current = self.version(name, version).stage
            if current not in (stage, PRODUCTION):
                moves.append(self.promote(name, version, stage, who, why))
        return moves

    def promote(self, name: str, version: int, stage: str, who: str, why: str = ""
                ) -> Transition:
        """Move a version to ``stage`` if the move is allowed and the stage's gates pass.

        Into production, the version in production before is archived in the same
        transaction (and recorded in the audit). A failed gate raises ``PromotionRefused``
        after recording the refused attempt; an invalid move raises before anything is stored.
        """
        if not who:
            raise InvalidInput("a stage move needs who is making it",
                               "pass who= (the CLI takes --who, default your user name)")
        with self.store.write() as conn:
            current = self._pick(conn, name, version, None)
            check_transition(name, version, current.stage, stage)
            results = self._evaluate(conn, name, current, stage)
            at = now_us()
            outcome = APPLIED if all(r.passed for r in results) else REFUSED
            moved: list[tuple[str, ModelVersion]] = []
            if outcome == APPLIED:
                if stage == PRODUCTION:  # the audit shows the archiving first, then the move
                    for old in self.store.versions(conn, name, PRODUCTION):
                        self.store.set_stage(conn, name, old.version, ARCHIVED)
                        self.store.add_transition(conn, name, old.version, PRODUCTION,
                                                  ARCHIVED, APPLIED, who,
                                                  f"replaced in production by v{version}",
                                                  at, ())
                        moved.append((PRODUCTION, self._pick(conn, name, old.version, None)))
                self.store.set_stage(conn, name, version, stage)
                moved.append((current.stage, self._pick(conn, name, version, None)))
            self.store.add_transition(conn, name, version, current.stage, stage, outcome, who,
                                      why, at, results)
            model = self._model(conn, name)
            consumers = self.store.consumers(conn, name)
            record = self.store.transitions(conn, name, version)[-1]
        if outcome == REFUSED:
            raise PromotionRefused(name, version, stage, results)
        mirror.staged(self.ws.graph, model, moved, consumers)
        return record

    def _evaluate(self, conn: Connection, name: str, candidate: ModelVersion, stage: str
                  ) -> list[GateResult]:
        if stage not in GATED_STAGES:
            return []
        production = [v for v in self.store.versions(conn, name, PRODUCTION)
                      if v.version != candidate.version]
        baseline = (Baseline(production[-1].version, production[-1].metrics)
                    if production else None)
        return [d.gate.check(candidate.version, candidate.metrics, baseline)
                for d in self.store.gates(conn, name, stage)]

    def declare_gate(self, name: str, gate: Gate, stage: str = PRODUCTION, who: str = ""
                     ) -> DeclaredGate:
        """Add a gate to ``stage`` (or replace the gate of the same kind on the same metric)."""
        check_stage(stage, GATED_STAGES)
        with self.store.write() as conn:
            self._model(conn, name)
            self.store.put_gate(conn, name, stage, gate, who, now_us())
            return next(d for d in self.store.gates(conn, name, stage)
                        if d.gate.name == gate.name)

    def remove_gate(self, name: str, gate: str, stage: str = PRODUCTION) -> None:
        """Remove the gate named ``gate`` (``KIND:METRIC``, as ``gates`` lists it)."""
        check_stage(stage, GATED_STAGES)
        with self.store.write() as conn:
            self._model(conn, name)
            if not self.store.remove_gate(conn, name, stage, gate):
                raise NotFound(f"model {name} has no gate {gate!r} on {stage}",
                               f"list its gates with `reelgraph models gates {name}`")

    def subscribe(self, name: str, consumer: str, owner: str = "", who: str = "") -> Consumer:
        """Record that ``consumer`` (NAMESPACE/NAME) uses the model; repeating it is a no-op."""
        consumer_key(consumer)
        with self.store.write() as conn:
            self._model(conn, name)
            new = self.store.add_consumer(conn, Consumer(name, consumer, owner, who, now_us()))
            found = next(c for c in self.store.consumers(conn, name) if c.consumer == consumer)
            production = self.store.versions(conn, name, PRODUCTION)
        if new:
            mirror.subscribed(self.ws.graph, found, production[-1] if production else None)
        return found

    def unsubscribe(self, name: str, consumer: str) -> None:
        consumer_key(consumer)
        with self.store.write() as conn:
            self._model(conn, name)
            found = [c for c in self.store.consumers(conn, name) if c.consumer == consumer]
            if not found:
                raise NotFound(f"{consumer} is not subscribed to model {name}",
                               f"list its consumers with `reelgraph models subscribe {name} "
                               "--list`")
            self.store.remove_consumer(conn, name, consumer)
            production = self.store.versions(conn, name, PRODUCTION)
        mirror.unsubscribed(self.ws.graph, found[0], production[-1] if production else None)


def _storable(version: int) -> bool:
    return 1 <= version < 1 << 63
