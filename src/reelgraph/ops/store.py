"""The ops tables in the metadata database (migration ``o001``): check results as a time
series, alerts, incident timelines and overlay rules. Rows become plain records here."""

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


_ALERT = ("id, monitor, watched, owner, at, signal, value, z, severity, message, incident, "
          "delivered")
_RULE = "id, canvas, item, action, weight, created_at, expires_at, removed_at, who, incident"


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
