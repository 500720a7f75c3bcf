"""``RecSysOps``: the one handle over monitors, checks, alerts and incidents.

    ops = RecSysOps(workspace)
    ops.add_monitor("serving", "serving", [deployment_uri], owner="personalization",
                    source={"outcomes": "/data/plays"})
    ops.learn(monitor_uri, window_ends)      # the reference period
    ops.check(at=time.time())                # on a schedule (``check_flow``) or on demand

Every check stores one row per signal (a time series), raises at most one alert per monitor
(its failed signals, the worst one named), routes it to the watched node's owner (the
monitor's webhook, and the alert listing) and opens or joins an incident. A source that is
missing or unreadable fails the check as an alert; it never stops the other monitors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
import pyarrow as pa

from reelgraph.core import InvalidInput, ReelgraphError
from reelgraph.flows import Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.graph import NodeKey
from reelgraph.ops.checks import LATENCY, Finding, Reference, learn
from reelgraph.ops.incidents import Incident, Incidents
from reelgraph.ops.monitors import Monitor, list_monitors, load_monitor, save_monitor
from reelgraph.ops.outcomes import join_outcomes, read_impressions
from reelgraph.ops.signals import (
    Observation,
    dataset_observation,
    input_observation,
    partitions,
    serving_observation,
)
from reelgraph.ops.store import Alert, CheckRow, OpsStore
from reelgraph.recsys import MODEL, UnifiedRecommender
from reelgraph.serving import Deployed

log = logging.getLogger(__name__)
HEALTH = ("error_rate", *(f"{name}_change" for name in LATENCY), "requests", "source")
DRIFT_LAG_S = 3 * 86_400.0  # serving drift is measured against the window this long before


@dataclass(frozen=True)
class CheckReport:
    monitor: str
    at: float
    findings: list[Finding]
    alert: Alert | None = None
    incident: Incident | None = None

    @property
    def passed(self) -> bool:
        return self.alert is None

    def to_dict(self) -> dict[str, Any]:
        return {"monitor": self.monitor, "at": self.at, "passed": self.passed,
                "failed": [f.message for f in self.findings if not f.passed],
                "alert": None if self.alert is None else self.alert.to_dict(),
                "incident": None if self.incident is None else self.incident.uri}


def item_inputs(recommender: UnifiedRecommender) -> dict[str, np.ndarray]:
    """The serving model's per-item inputs, by group (what the inputs monitor compares)."""
    items = recommender.items
    found = {"categories": items.category_matrix.T.astype(np.float32)}
    if items.vectors is not None:
        found["vectors"] = items.vectors
    if items.popularity is not None:
        found["popularity"] = items.popularity
    return found


def version_number(model_version: str) -> int:
    """``personalization/unified-recommender@3`` -> 3."""
    try:
        return int(model_version.rsplit("@", 1)[1])
    except (IndexError, ValueError):
        raise InvalidInput(f"{model_version!r} names no registered version",
                           "replay requests answered by a registered model version") from None


@dataclass
class RecSysOps:
    ws: Workspace
    impressions_root: Path | None = None
    namespace: str = "personalization"
    model: str = MODEL
    clock: Callable[[], float] = time.time
    _references: dict[str, Reference] = field(default_factory=dict)
    _recommenders: dict[int, UnifiedRecommender] = field(default_factory=dict)
    _deployed: dict[int, Deployed] = field(default_factory=dict)
    _change_id: int = 0

    def __post_init__(self) -> None:
        self.store = OpsStore(self.ws.database.engine)
        self.incidents = Incidents(self.ws.graph, self.store, self.namespace)
        self.registry = ModelRegistry(self.ws)
        if self.impressions_root is None:
            self.impressions_root = self.ws.settings.home / "offline" / "impressions"

    # --- monitors --------------------------------------------------------------------------

    def add_monitor(self, name: str, kind: str, watches: Sequence[str], owner: str,
                    source: dict[str, Any] | None = None, window_s: float = 86_400.0,
                    webhook: str | None = None, description: str = "",
                    **extra: Any) -> Monitor:
        uri = NodeKey("monitor", self.namespace, name).uri
        monitor = Monitor(uri, kind, tuple(watches), owner, source or {}, window_s, webhook,
                          None, description or f"{kind} checks of {', '.join(watches)}",
                          extra)
        save_monitor(self.ws.graph, monitor)
        return monitor

    def monitors(self) -> list[Monitor]:
        return list_monitors(self.ws.graph)

    def monitor(self, uri: str) -> Monitor:
        ref = uri if uri.startswith("rg://") else NodeKey("monitor", self.namespace, uri).uri
        return load_monitor(self.ws.graph, ref)

    # --- observing -------------------------------------------------------------------------

    def recommender(self, version: int) -> UnifiedRecommender:
        if version not in self._recommenders:
            self._recommenders[version] = UnifiedRecommender.from_registry(
                self.registry, self.model, version=version)
        return self._recommenders[version]

    def deployed(self, version: int) -> Deployed:
        """The version made ready to answer as serving does (for replays)."""
        if version not in self._deployed:
            self._deployed[version] = Deployed.of(self.recommender(version), version)
        return self._deployed[version]

    def production_version(self) -> int:
        return self.registry.version(self.model, None, "production").version

    def impressions(self, start: float | None = None, end: float | None = None) -> pa.Table:
        assert self.impressions_root is not None
        return read_impressions(self.impressions_root, start, end)

    def path(self, source: str) -> Path:
        """A monitor's source folder; a relative one is under the workspace's home."""
        return self.ws.settings.home / source  # an absolute ``source`` stays as it is

    def observe(self, monitor: Monitor, end: float) -> Observation:
        """What the monitor's source looks like over ``[end - window, end)``; a source that
        cannot be read gives an observation with its error, never an exception."""
        start = end - monitor.window_s
        try:
            if monitor.kind == "dataset":
                columns = monitor.extra.get("columns")
                return dataset_observation(self.path(monitor.source["folder"]), start, end,
                                           tuple(columns) if columns else None)
            if monitor.kind == "inputs":
                reference = self.recommender(int(monitor.extra["reference_version"]))
                current = self.recommender(self.production_version())
                return input_observation(item_inputs(reference), item_inputs(current))
            return self._serving(monitor, start, end)
        except (ReelgraphError, OSError, KeyError, duckdb.Error) as exc:
            return Observation({}, error=f"{type(exc).__name__}: {exc}")

    def _serving(self, monitor: Monitor, start: float, end: float) -> Observation:
        impressions = served_only(self.impressions(start, end))
        recommender = self.recommender(self.production_version())
        popularity = recommender.items.popularity
        launched = frozenset() if popularity is None else frozenset(
            recommender.vocabulary.item_ids[i] for i in np.flatnonzero(popularity[:, 0] == 0))
        joined = None
        folder = monitor.source.get("outcomes")
        observation_error = None
        if folder:
            try:
                joined = join_outcomes(impressions,
                                       read_outcomes(self.path(folder), start, end),
                                       float(monitor.source.get("horizon_s", 3600.0)))
            except (ReelgraphError, OSError, duckdb.Error) as exc:
                observation_error = f"outcomes unreadable: {type(exc).__name__}: {exc}"
        found = serving_observation(impressions, joined,
                                    len(recommender.vocabulary.item_ids), launched)
        if observation_error:  # the other signals still count; the quality ones fail
            log.warning("%s: %s", monitor.uri, observation_error)
        return found

    # --- learning and checking -------------------------------------------------------------

    def learn(self, uri: str, window_ends: Sequence[float]) -> Reference:
        """Learn the monitor's reference from windows ending at ``window_ends`` (in order)."""
        monitor = self.monitor(uri)
        if monitor.kind == "inputs":
            monitor = replace(monitor, extra={**monitor.extra,
                                              "reference_version": self.production_version()})
        if monitor.kind == "dataset":
            found = partitions(self.path(monitor.source["folder"]))
            recent = [p for p in found if p.arrived < window_ends[-1]]
            monitor = replace(monitor, extra={
                **monitor.extra, "columns": list(recent[-1].columns) if recent else None})
        observations = [self.observe(monitor, end) for end in window_ends]
        step = (window_ends[-1] - window_ends[0]) / max(len(window_ends) - 1, 1)
        lag = round(DRIFT_LAG_S / step) if monitor.kind == "serving" and step > 0 else 0
        reference = learn(observations, lag=lag if lag < len(observations) // 2 else 0)
        ref = self.ws.artifacts.put(reference.to_dict(), label=f"reference of {uri}")
        save_monitor(self.ws.graph, replace(monitor, reference=ref.to_dict()))
        self._references[monitor.uri] = reference
        return reference

    def reference(self, monitor: Monitor) -> Reference | None:
        if monitor.uri not in self._references and monitor.reference is not None:
            from reelgraph.artifacts import ArtifactRef

            data = self.ws.artifacts.get(ArtifactRef.from_dict(dict(monitor.reference)))
            self._references[monitor.uri] = Reference.from_dict(data)
        return self._references.get(monitor.uri)

    def change_id(self) -> int:
        """The graph's latest change id (checks record it: diagnosis reads what changed)."""
        while True:
            found = self.ws.graph.changes(after=self._change_id, limit=1000)
            if not found:
                return self._change_id
            self._change_id = found[-1][0]

    def check(self, at: float | None = None, monitors: Sequence[str] | None = None
              ) -> list[CheckReport]:
        """Run every learned monitor (or those named) on the window ending at ``at``."""
        at = self.clock() if at is None else at
        chosen = [self.monitor(u) for u in monitors] if monitors else self.monitors()
        change = self.change_id()
        reports = []
        for monitor in chosen:
            reference = self.reference(monitor)
            if reference is None:
                continue
            lagged = self.observe(monitor, at - DRIFT_LAG_S) if monitor.kind == "serving" \
                else None
            findings = reference.check(self.observe(monitor, at), lagged)
            failed = self._persistent(monitor.uri, at, [f for f in findings if not f.passed])
            self.store.add_checks([CheckRow(monitor.uri, at, f.signal, f.value, f.z, f.passed,
                                            change) for f in findings])
            if not failed:
                reports.append(CheckReport(monitor.uri, at, findings))
                continue
            alert, incident = self._raise(monitor, at, failed)
            reports.append(CheckReport(monitor.uri, at, findings, alert, incident))
        return reports

    def _persistent(self, monitor: str, at: float, failed: list[Finding]) -> list[Finding]:
        """The failures that alert: critical ones at once, warnings when the same signal
        also failed at the monitor's check before (one noisy window is not an incident)."""
        if not failed:
            return []
        before = self.store.checks(monitor, limit=500)
        last = max((r.at for r in before if r.at < at), default=None)
        failed_before = {r.signal for r in before if r.at == last and not r.passed}
        return [f for f in failed if f.severity == "critical" or f.signal in failed_before]

    def _raise(self, monitor: Monitor, at: float, failed: list[Finding]
               ) -> tuple[Alert, Incident]:
        worst = max(failed, key=lambda f: abs(f.z) if f.z is not None else float("inf"))
        severity = "critical" if any(f.severity == "critical" for f in failed) else "warning"
        watched = monitor.watches[0] if monitor.watches else monitor.uri
        node = self.ws.graph.get(watched)
        owner = node.owner if node is not None and node.owner else monitor.owner
        message = "; ".join(f.message for f in failed)
        incident = self.incidents.open_or_join(
            watched, at, monitor.window_s,
            f"{monitor.uri.rsplit('/', 1)[-1]}: {worst.signal}", severity, owner,
            {"monitor": monitor.uri, "signals": [f.signal for f in failed],
             "message": message})
        alert = Alert(0, monitor.uri, watched, owner, at, worst.signal, worst.value, worst.z,
                      severity, message, incident.uri, None)
        delivered = self._deliver(monitor.webhook, alert) if monitor.webhook else None
        alert = replace(alert, delivered=delivered)
        return replace(alert, id=self.store.add_alert(alert)), incident

    def _deliver(self, webhook: str, alert: Alert) -> str:
        try:
            answer = httpx.post(webhook, json=alert.to_dict(), timeout=2.0)
            return f"{answer.status_code}"
        except httpx.HTTPError as exc:  # routing must never stop the checks
            return f"failed: {type(exc).__name__}: {exc}"

    def alerts(self, owner: str | None = None, incident: str | None = None,
               limit: int = 200) -> list[Alert]:
        return self.store.alerts(owner, incident, limit)


def served_only(impressions: pa.Table) -> pa.Table:
    """The impressions members saw: without shadow answers (computed, never returned)."""
    import pyarrow.compute as pc

    shown = pc.fill_null(pc.not_equal(impressions["environment"], "shadow"), True)
    return impressions.filter(shown)


def read_outcomes(folder: str | Path, start: float, end: float) -> pa.Table:
    """Outcome rows (user, item, time) of a dataset's partitions with ``start <= time < end``."""
    files = [str(p.path) for p in partitions(folder) if p.arrived >= start - 86_400]
    if not files:
        return pa.table({"user": pa.array([], pa.string()), "item": pa.array([], pa.string()),
                         "time": pa.array([], pa.float64())})
    with duckdb.connect() as con:
        return con.sql(
            "SELECT CAST(user AS VARCHAR) AS user, CAST(item AS VARCHAR) AS item, "
            "CAST(time AS DOUBLE) AS time FROM read_parquet(?, union_by_name = true) "
            "WHERE time >= ? AND time < ?", params=[files, start, end]).to_arrow_table()
