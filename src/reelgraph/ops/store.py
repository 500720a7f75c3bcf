"""The ops tables in the metadata database (migrations ``o001``, ``o002``): check results as
a time series, alerts, incident timelines, overlay rules, canvas switches, nearline
invalidations and canaries. Rows become plain records here."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

from reelgraph.core import write_connection


@dataclass(frozen=True)
class CheckRow:
    monitor: str
    at: float
    signal: str
    value: float | None
    z: float | None
    passed: bool
    change_id: int


@dataclass(frozen=True)
class Alert:
    """A failed check (or an aborted canary), routed to the watched node's owner."""

    id: int
    monitor: str
    watched: str
    owner: str
    at: float
    signal: str
    value: float | None
    z: float | None
    severity: str
    message: str
    incident: str | None
    delivered: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Event:
    id: int
    incident: str
    at: float
    kind: str
    who: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    id: int
    canvas: str
    item: str
    action: str  # block, pin, boost
    weight: float
    created_at: float
    expires_at: float | None
    removed_at: float | None
    who: str
    incident: str | None

    def active(self, at: float) -> bool:
        return self.removed_at is None and (self.expires_at is None or at < self.expires_at)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Switch:
    """A canvas served from a fallback environment until ``expires_at``."""

    id: int
    canvas: str
    environment: str  # fallback, nearline-only
    created_at: float
    expires_at: float
    removed_at: float | None
    who: str
    incident: str | None

    def active(self, at: float) -> bool:
        return self.removed_at is None and at < self.expires_at

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Invalidation:
    """Nearline answers taken out; ``snapshot`` (an artifact ref) holds them to restore."""

    id: int
    selection: dict[str, Any]
    removed: int
    snapshot: dict[str, Any]
    created_at: float
    restored_at: float | None
    who: str
    incident: str | None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "snapshot"}


@dataclass(frozen=True)
class Canary:
    """A candidate version answering ``share`` of the members, judged against production."""

    id: int
    version: int
    production: int
    share: float
    started_at: float
    window_s: float
    status: str  # running, aborted, promoted, stopped
    ended_at: float | None
    reason: str | None
    who: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_ALERT = ("id, monitor, watched, owner, at, signal, value, z, severity, message, incident, "
          "delivered")
_RULE = "id, canvas, item, action, weight, created_at, expires_at, removed_at, who, incident"
_SWITCH = "id, canvas, environment, created_at, expires_at, removed_at, who, incident"
_INVALIDATION = "id, selection, removed, snapshot, created_at, restored_at, who, incident"
_CANARY = ("id, version, production, share, started_at, window_s, status, ended_at, reason, "
           "who")


class OpsStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with write_connection(self.engine) as conn, conn.begin():
            yield conn

    def _read(self, sql: str, **params: Any) -> Sequence[Any]:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    # --- checks ----------------------------------------------------------------------------

    def add_checks(self, rows: Sequence[CheckRow]) -> None:
        if rows:
            with self.write() as conn:
                conn.execute(text(
                    "INSERT INTO rg_ops_check (monitor, at, signal, value, z, passed, "
                    "change_id) VALUES (:monitor, :at, :signal, :value, :z, :passed, "
                    ":change_id)"), [asdict(r) for r in rows])

    def checks(self, monitor: str, signal: str | None = None, limit: int = 1000
               ) -> list[CheckRow]:
        clause = " AND signal = :signal" if signal else ""
        rows = self._read(f"SELECT monitor, at, signal, value, z, passed, change_id FROM "
                          f"rg_ops_check WHERE monitor = :m{clause} ORDER BY at DESC, id DESC "
                          "LIMIT :n", m=monitor, signal=signal, n=limit)
        return [CheckRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), int(r[6])) for r in rows]

    def last_passing(self, monitor: str, before: float) -> CheckRow | None:
        """The latest check time of ``monitor`` before ``before`` with no failed signal."""
        rows = self._read(
            "SELECT at, MIN(change_id), MIN(CASE WHEN passed THEN 1 ELSE 0 END) FROM "
            "rg_ops_check WHERE monitor = :m AND at < :b GROUP BY at ORDER BY at DESC",
            m=monitor, b=before)
        for at, change_id, all_passed in rows:
            if all_passed:
                return CheckRow(monitor, at, "*", None, None, True, int(change_id))
        return None

    def change_at(self, at: float) -> int:
        """The graph's change id as the last check at or before ``at`` saw it (0: none)."""
        rows = self._read("SELECT MAX(change_id) FROM rg_ops_check WHERE at <= :at", at=at)
        return int(rows[0][0] or 0)

    # --- alerts ----------------------------------------------------------------------------

    def add_alert(self, alert: Alert) -> int:
        values = {k: v for k, v in asdict(alert).items() if k != "id"}
        with self.write() as conn:
            conn.execute(text(
                "INSERT INTO rg_ops_alert (monitor, watched, owner, at, signal, value, z, "
                "severity, message, incident, delivered) VALUES (:monitor, :watched, :owner, "
                ":at, :signal, :value, :z, :severity, :message, :incident, :delivered)"),
                values)
            return int(conn.execute(text("SELECT MAX(id) FROM rg_ops_alert")).scalar_one())

    def alerts(self, owner: str | None = None, incident: str | None = None,
               limit: int = 200) -> list[Alert]:
        where = [c for c, v in (("owner = :owner", owner), ("incident = :incident", incident))
                 if v is not None]
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._read(f"SELECT {_ALERT} FROM rg_ops_alert{clause} ORDER BY id DESC "
                          "LIMIT :n", owner=owner, incident=incident, n=limit)
        return [Alert(*r) for r in rows]

    # --- incident timelines ----------------------------------------------------------------

    def add_event(self, incident: str, at: float, kind: str, who: str,
                  detail: dict[str, Any]) -> None:
        with self.write() as conn:
            conn.execute(text("INSERT INTO rg_ops_event (incident, at, kind, who, detail) "
                              "VALUES (:i, :at, :k, :w, :d)"),
                         {"i": incident, "at": at, "k": kind, "w": who,
                          "d": json.dumps(detail, default=str)})

    def events(self, incident: str) -> list[Event]:
        rows = self._read("SELECT id, incident, at, kind, who, detail FROM rg_ops_event "
                          "WHERE incident = :i ORDER BY id", i=incident)
        return [Event(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    # --- overlay rules ---------------------------------------------------------------------

    def add_rule(self, canvas: str, item: str, action: str, weight: float, at: float,
                 expires_at: float | None, who: str, incident: str | None) -> Rule:
        with self.write() as conn:
            conn.execute(text(
                "INSERT INTO rg_ops_rule (canvas, item, action, weight, created_at, "
                "expires_at, who, incident) VALUES (:c, :i, :a, :w, :at, :e, :who, :inc)"),
                {"c": canvas, "i": item, "a": action, "w": weight, "at": at, "e": expires_at,
                 "who": who, "inc": incident})
            row = conn.execute(text(f"SELECT {_RULE} FROM rg_ops_rule WHERE id = "
                                    "(SELECT MAX(id) FROM rg_ops_rule)")).one()
        return Rule(*row)

    def remove_rule(self, rule_id: int, at: float) -> bool:
        with self.write() as conn:
            done = conn.execute(text("UPDATE rg_ops_rule SET removed_at = :at WHERE id = :id "
                                     "AND removed_at IS NULL"), {"at": at, "id": rule_id})
            return bool(done.rowcount)

    def rules(self) -> list[Rule]:
        return [Rule(*r) for r in self._read(f"SELECT {_RULE} FROM rg_ops_rule ORDER BY id")]

    def _insert(self, table: str, columns: str, values: dict[str, Any]) -> Sequence[Any]:
        """Insert one row and return it (its id assigned)."""
        names = list(values)
        with self.write() as conn:
            conn.execute(text(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                              f"({', '.join(':' + n for n in names)})"), values)
            return conn.execute(text(f"SELECT {columns} FROM {table} WHERE id = "
                                     f"(SELECT MAX(id) FROM {table})")).one()

    def _end(self, table: str, column: str, row_id: int, at: float,
             **more: Any) -> bool:
        """Stamp ``column`` on a row not stamped yet; False when there is none."""
        sets = "".join(f", {k} = :{k}" for k in more)
        with self.write() as conn:
            done = conn.execute(text(f"UPDATE {table} SET {column} = :at{sets} WHERE id = :id "
                                     f"AND {column} IS NULL"), {"at": at, "id": row_id, **more})
            return bool(done.rowcount)

    # --- canvas switches -------------------------------------------------------------------

    def add_switch(self, canvas: str, environment: str, at: float, expires_at: float,
                   who: str, incident: str | None) -> Switch:
        return Switch(*self._insert("rg_ops_switch", _SWITCH, {
            "canvas": canvas, "environment": environment, "created_at": at,
            "expires_at": expires_at, "who": who, "incident": incident}))

    def remove_switch(self, switch_id: int, at: float) -> bool:
        return self._end("rg_ops_switch", "removed_at", switch_id, at)

    def switches(self) -> list[Switch]:
        return [Switch(*r) for r in self._read(f"SELECT {_SWITCH} FROM rg_ops_switch "
                                               "ORDER BY id")]

    # --- nearline invalidations ------------------------------------------------------------

    def add_invalidation(self, selection: dict[str, Any], removed: int,
                         snapshot: dict[str, Any], at: float, who: str,
                         incident: str | None) -> Invalidation:
        row = self._insert("rg_ops_invalidation", _INVALIDATION, {
            "selection": json.dumps(selection), "removed": removed,
            "snapshot": json.dumps(snapshot), "created_at": at, "who": who,
            "incident": incident})
        return _invalidation(row)

    def invalidation(self, invalidation_id: int) -> Invalidation | None:
        rows = self._read(f"SELECT {_INVALIDATION} FROM rg_ops_invalidation WHERE id = :id",
                          id=invalidation_id)
        return _invalidation(rows[0]) if rows else None

    def invalidations(self) -> list[Invalidation]:
        return [_invalidation(r) for r in self._read(
            f"SELECT {_INVALIDATION} FROM rg_ops_invalidation ORDER BY id")]

    def mark_restored(self, invalidation_id: int, at: float) -> bool:
        return self._end("rg_ops_invalidation", "restored_at", invalidation_id, at)

    # --- canaries --------------------------------------------------------------------------

    def add_canary(self, version: int, production: int, share: float, at: float,
                   window_s: float, who: str) -> Canary:
        return Canary(*self._insert("rg_ops_canary", _CANARY, {
            "version": version, "production": production, "share": share, "started_at": at,
            "window_s": window_s, "status": "running", "who": who}))

    def end_canary(self, canary_id: int, at: float, status: str, reason: str) -> bool:
        return self._end("rg_ops_canary", "ended_at", canary_id, at, status=status,
                         reason=reason)

    def canaries(self) -> list[Canary]:
        return [Canary(*r) for r in self._read(f"SELECT {_CANARY} FROM rg_ops_canary "
                                               "ORDER BY id")]


def _invalidation(row: Sequence[Any]) -> Invalidation:
    return Invalidation(row[0], json.loads(row[1]), int(row[2]), json.loads(row[3]), row[4],
                        row[5], row[6], row[7])
