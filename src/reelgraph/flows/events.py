"""The durable event log: what happened (a dataset's new version, a media asset, a schedule
tick) and which flow runs it started, kept in the metadata database.

Appends are idempotent: every event has a unique ``key`` (``change:<id>`` for a graph change,
``schedule:<flow>:<period>:<slot>`` for a tick), so replaying the change feed or two workers
ticking the same slot log it once. A flow reacts to an event through a *delivery*, one row
per (event, flow) under a unique key; a worker *claims* it inside a write transaction
(writers are serialised, see ``core.database``), so one event never starts two runs of a
flow at once. A failed delivery goes back to ``retrying`` with a backoff until its attempts
are spent, then ``dead``, with the run's error kept as the reason. A delivery names the
process working on it and carries its heartbeat: one whose worker died is ``reap``ed back to
``retrying`` (its run resumed), and ``retry`` requeues dead letters by hand.

Event ids increase in the order events are logged. Times are microseconds since the epoch
(UTC), from ``core.clock``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from reelgraph.core import MetadataStore, now_us, this_process, write_connection
from reelgraph.flows.leases import lapsed
from reelgraph.graph import Graph

CHANGE_KINDS = ("dataset", "media_asset")  # node kinds whose new revisions are events
SCHEDULE = "schedule"
_CHANGES_CURSOR = "graph_changes"
_PAGE = 1000

_EVENT_COLUMNS = "id, key, kind, uri, flow, payload, created_at"
_DELIVERY_COLUMNS = ("event_id, flow, status, attempts, run_id, runs, worker, next_at, error, "
                     "updated_at")


@dataclass(frozen=True)
class Delivery:
    """One flow's reaction to one event: running, retrying, succeeded or dead."""

    event_id: int
    flow: str  # NAMESPACE/NAME
    status: str
    attempts: int
    run_id: str | None
    runs: tuple[str, ...]
    worker: str
    next_at: int | None
    error: str | None
    updated_at: int

    def to_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "flow": self.flow, "status": self.status,
                "attempts": self.attempts, "run_id": self.run_id, "runs": list(self.runs),
                "worker": self.worker, "next_at": self.next_at, "error": self.error,
                "updated_at": self.updated_at}


@dataclass(frozen=True)
class Event:
    """One event that triggers flows: a new dataset revision, media asset or schedule tick."""
    id: int
    key: str
    kind: str  # dataset, media_asset or schedule
    uri: str | None
    flow: str | None  # the flow a schedule tick is for
    payload: dict[str, Any]
    created_at: int
    deliveries: tuple[Delivery, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "kind": self.kind, "uri": self.uri,
                "flow": self.flow, "payload": self.payload, "created_at": self.created_at,
                "deliveries": [d.to_dict() for d in self.deliveries]}


@dataclass(frozen=True)
class Selector:
    """Which events a trigger listens to, as the database can filter them (a superset:
    ``triggers.matches`` decides)."""

    kind: str
    uri: str | None = None  # equal to this URI ...
    uri_prefix: str | None = None  # ... or starting with this prefix
    flow: str | None = None


def _event(row: Any, deliveries: tuple[Delivery, ...] = ()) -> Event:
    return Event(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], deliveries)


def _delivery(row: Any) -> Delivery:
    return Delivery(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5])), row[6],
                    row[7], row[8], row[9])


def _like(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _change_key(change_id: int, kind: str, uri: str) -> str:
    # A media asset is named by its content, so it is new once: a later revision (the same
    # bytes registered from another path, a new tag) is not new media and starts nothing.
    return f"media_asset:{uri}" if kind == "media_asset" else f"change:{change_id}"


class EventLog(MetadataStore):
    """The durable event log: each event logged once by its key, delivered to the flows it
    triggers, claimed by one worker at a time (see the module docstring)."""

    # --- appending ---------------------------------------------------------------------

    def append(self, key: str, kind: str, uri: str | None = None, flow: str | None = None,
               payload: dict[str, Any] | None = None) -> Event | None:
        """Log an event; None when an event with this key is already logged."""
        with write_connection(self.engine) as conn, conn.begin():
            if not self._insert(conn, key, kind, uri, flow, payload or {}):
                return None
            row = conn.execute(text(f"SELECT {_EVENT_COLUMNS} FROM rg_event WHERE key = :k"),
                               {"k": key}).one()
        return _event(row)

    @staticmethod
    def append_in(conn: Connection, key: str, kind: str, uri: str | None = None,
                  flow: str | None = None, payload: dict[str, Any] | None = None) -> bool:
        """Log an event inside the caller's open write transaction on the metadata database,
        so a store's rows and the event saying they changed commit together or not at all;
        False when an event with this key is already logged."""
        return EventLog._insert(conn, key, kind, uri, flow, payload or {})

    @staticmethod
    def _insert(conn: Connection, key: str, kind: str, uri: str | None, flow: str | None,
                payload: dict[str, Any]) -> bool:
        done = conn.execute(
            text("INSERT INTO rg_event (key, kind, uri, flow, payload, created_at) VALUES "
                 "(:key, :kind, :uri, :flow, :payload, :at) ON CONFLICT (key) DO NOTHING"),
            {"key": key, "kind": kind, "uri": uri, "flow": flow,
             "payload": json.dumps(payload), "at": now_us()},
        )
        return bool(done.rowcount)

    def ingest(self, graph: Graph) -> int:
        """Log every new revision of a dataset, and every new media asset, since the last
        call; returns how many events were new. The cursor and the events move in one
        transaction."""
        new = 0
        while True:
            after = self.position(_CHANGES_CURSOR)
            changes = graph.changes(after, kinds=CHANGE_KINDS, limit=_PAGE)
            if not changes:
                return new
            with write_connection(self.engine) as conn, conn.begin():
                for change_id, node in changes:
                    if node.deleted:  # a deletion is no new version
                        continue
                    new += self._insert(conn, _change_key(change_id, node.kind, node.uri),
                                        node.kind, node.uri, None,
                                        {"change": change_id, "revision": node.revision})
                self._advance(conn, _CHANGES_CURSOR, changes[-1][0])
            if len(changes) < _PAGE:
                return new

    def tick(self, flow: str, every_s: float, at_s: float) -> Event | None:
        """Log the schedule tick of ``flow`` for the period slot holding ``at_s`` (seconds
        since the epoch), once however often it is called."""
        slot = int(at_s // every_s)
        return self.append(f"schedule:{flow}:{every_s:g}:{slot}", SCHEDULE, flow=flow,
                           payload={"every_s": every_s, "slot": slot,
                                    "slot_start_s": slot * every_s})

    def position(self, cursor: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(text("SELECT position FROM rg_event_cursor WHERE name = :n"),
                                 {"n": cursor}).scalar()
        return int(value or 0)

    @staticmethod
    def _advance(conn: Connection, cursor: str, position: int) -> None:
        # Never backwards: another worker may have consumed further in the meantime.
        conn.execute(
            text("INSERT INTO rg_event_cursor (name, position) VALUES (:n, :p) "
                 "ON CONFLICT (name) DO UPDATE SET position = CASE WHEN EXCLUDED.position > "
                 "rg_event_cursor.position THEN EXCLUDED.position "
                 "ELSE rg_event_cursor.position END"),
            {"n": cursor, "p": position},
        )

    # --- subscriptions and claims ------------------------------------------------------

    def subscribe(self, flow: str, catch_up: bool = False) -> int:
        """The id after which ``flow`` reacts to events: the newest event when a worker first
        saw the flow (a new flow does not replay history), or 0 with ``catch_up``."""
        with write_connection(self.engine) as conn, conn.begin():
            since = conn.execute(
                text("SELECT since_event FROM rg_event_subscription WHERE flow = :f"),
                {"f": flow}).scalar()
            if since is not None:
                return int(since)
            since = 0 if catch_up else conn.execute(
                text("SELECT COALESCE(MAX(id), 0) FROM rg_event")).scalar()
            conn.execute(
                text("INSERT INTO rg_event_subscription (flow, since_event, created_at) "
                     "VALUES (:f, :s, :at)"), {"f": flow, "s": since, "at": now_us()})
        return int(since or 0)

    def pending(self, flow: str, selector: Selector, since: int, now: int, limit: int = 100
                ) -> list[Event]:
        """Events after ``since`` that the selector picks and ``flow`` has not reacted to
        yet (or whose retry is due), oldest first."""
        clause = "e.kind = :kind"
        params: dict[str, Any] = {"kind": selector.kind, "since": since, "flow_id": flow,
                                  "now": now, "limit": limit}
        if selector.uri is not None and selector.uri_prefix is not None:
            clause += " AND (e.uri = :uri OR e.uri LIKE :prefix ESCAPE '\\')"
            params |= {"uri": selector.uri, "prefix": _like(selector.uri_prefix)}
        elif selector.uri is not None:
            clause += " AND e.uri = :uri"
            params["uri"] = selector.uri
        if selector.flow is not None:
            clause += " AND e.flow = :flow"
            params["flow"] = selector.flow
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                f"SELECT {', '.join('e.' + c for c in _EVENT_COLUMNS.split(', '))} "
                f"FROM rg_event e WHERE e.id > :since AND {clause} AND NOT EXISTS ("
                "SELECT 1 FROM rg_event_delivery d WHERE d.event_id = e.id AND d.flow = :flow_id "
                "AND NOT (d.status = 'retrying' AND d.next_at <= :now)) "
                "ORDER BY e.id LIMIT :limit"), params)
            return [_event(row) for row in rows]

    def claim(self, event_id: int, flow: str, worker: str, now: int) -> Delivery | None:
        """Take the (event, flow) pair for one attempt; None when another worker has it, it
        succeeded, it is dead, or its retry is not due."""
        with write_connection(self.engine) as conn, conn.begin():
            current = self._get(conn, event_id, flow)
            if current is None:
                conn.execute(
                    text(f"INSERT INTO rg_event_delivery ({_DELIVERY_COLUMNS}) VALUES (:e, :f, "
                         "'running', 1, NULL, '[]', :w, NULL, NULL, :now)"),
                    {"e": event_id, "f": flow, "w": worker, "now": now})
            elif current.status == "retrying" and (current.next_at or 0) <= now:
                conn.execute(
                    text("UPDATE rg_event_delivery SET status = 'running', attempts = "
                         "attempts + 1, worker = :w, next_at = NULL, updated_at = :now "
                         "WHERE event_id = :e AND flow = :f"),
                    {"e": event_id, "f": flow, "w": worker, "now": now})
            else:
                return None
            conn.execute(text("UPDATE rg_event_delivery SET owner = :o, heartbeat_at = :t "
                              "WHERE event_id = :e AND flow = :f"),
                         {"o": this_process(), "t": now_us(), "e": event_id, "f": flow})
            return self._get(conn, event_id, flow)

    def beat(self, event_id: int, flow: str) -> None:
        """Renew the heartbeat of a delivery this process works on."""
        with write_connection(self.engine) as conn, conn.begin():
            conn.execute(text("UPDATE rg_event_delivery SET heartbeat_at = :t WHERE "
                              "event_id = :e AND flow = :f AND status = 'running'"),
                         {"t": now_us(), "e": event_id, "f": flow})

    def reap(self, max_attempts: int, now: int) -> list[Delivery]:
        """Deliveries whose worker died mid-attempt (``flows.leases``) go back to
        ``retrying``, due at once (its run is resumed), or to ``dead`` when that was the
        last attempt; returns them as they are now."""
        changed = []
        for current in self._stuck():
            last = current.attempts >= max_attempts
            error = (f"the worker {current.worker} died during attempt {current.attempts}"
                     + ("; no attempts left" if last else ""))
            with write_connection(self.engine) as conn, conn.begin():
                done = conn.execute(
                    text("UPDATE rg_event_delivery SET status = :s, next_at = :n, error = :err, "
                         "updated_at = :now WHERE event_id = :e AND flow = :f "
                         "AND status = 'running' AND updated_at = :seen"),
                    {"s": "dead" if last else "retrying", "n": None if last else now,
                     "err": error, "now": now, "e": current.event_id, "f": current.flow,
                     "seen": current.updated_at})
                found = self._get(conn, current.event_id, current.flow)
            if done.rowcount and found is not None:
                changed.append(found)
        return changed

    def retry(self, event_ids: Sequence[int] = (), flow: str | None = None) -> list[Delivery]:
        """Requeue dead-lettered deliveries, and those stuck with a dead worker, with their
        attempts reset (all events' unless ``event_ids`` or ``flow`` narrow it); a worker
        runs them on its next pass. Returns the requeued deliveries."""
        clause, params = "", dict[str, Any]()
        if event_ids:
            marks = ", ".join(f":i{n}" for n in range(len(event_ids)))
            clause += f" AND event_id IN ({marks})"
            params = {f"i{n}": i for n, i in enumerate(event_ids)}
        if flow is not None:
            clause += " AND flow = :flow"
            params["flow"] = flow
        with self.engine.connect() as conn:
            dead = [_delivery(row) for row in conn.execute(
                text(f"SELECT {_DELIVERY_COLUMNS} FROM rg_event_delivery "
                     f"WHERE status = 'dead'{clause}"), params)]
        chosen = {(d.event_id, d.flow) for d in dead}
        chosen |= {(d.event_id, d.flow) for d in self._stuck()
                   if (not event_ids or d.event_id in event_ids) and flow in (None, d.flow)}
        now, requeued = now_us(), []
        with write_connection(self.engine) as conn, conn.begin():
            for event_id, flow_id in sorted(chosen):
                conn.execute(
                    text("UPDATE rg_event_delivery SET status = 'retrying', attempts = 0, "
                         "next_at = :now, updated_at = :now WHERE event_id = :e AND flow = :f"),
                    {"now": now, "e": event_id, "f": flow_id})
                found = self._get(conn, event_id, flow_id)
                if found is not None:
                    requeued.append(found)
        return requeued

    def _stuck(self) -> list[Delivery]:
        """Running deliveries whose worker is gone (dead process or lapsed heartbeat)."""
        now = now_us()
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                f"SELECT {_DELIVERY_COLUMNS}, owner, heartbeat_at FROM rg_event_delivery "
                "WHERE status = 'running'")).all()
        return [_delivery(row) for row in rows if lapsed(row[-2], row[-1], now)]

    def started(self, event_id: int, flow: str, run_id: str) -> None:
        """Note the run an attempt started (while it runs, so `events list` shows it)."""
        with write_connection(self.engine) as conn, conn.begin():
            self._set_run(conn, event_id, flow, run_id)

    def finish(self, event_id: int, flow: str, run_id: str | None, error: str | None,
               max_attempts: int, backoff_s: float, now: int) -> Delivery:
        """Close an attempt: succeeded, retrying after ``backoff_s * 2**(attempt-1)`` while
        attempts remain, else dead with ``error`` as the reason."""
        with write_connection(self.engine) as conn, conn.begin():
            if run_id is not None:
                self._set_run(conn, event_id, flow, run_id)
            current = self._get(conn, event_id, flow)
            assert current is not None, "finish() follows claim()"
            next_at = None
            if error is None:
                status = "succeeded"
            elif current.attempts < max_attempts:
                status = "retrying"
                next_at = now + int(backoff_s * 2 ** (current.attempts - 1) * 1_000_000)
            else:
                status = "dead"
            conn.execute(
                text("UPDATE rg_event_delivery SET status = :s, next_at = :n, error = :err, "
                     "updated_at = :now WHERE event_id = :e AND flow = :f"),
                {"s": status, "n": next_at, "err": error, "now": now, "e": event_id,
                 "f": flow})
            done = self._get(conn, event_id, flow)
        assert done is not None
        return done

    def _set_run(self, conn: Connection, event_id: int, flow: str, run_id: str) -> None:
        current = self._get(conn, event_id, flow)
        if current is None or run_id in current.runs:
            return
        conn.execute(
            text("UPDATE rg_event_delivery SET run_id = :r, runs = :runs "
                 "WHERE event_id = :e AND flow = :f"),
            {"r": run_id, "runs": json.dumps([*current.runs, run_id]), "e": event_id,
             "f": flow})

    @staticmethod
    def _get(conn: Connection, event_id: int, flow: str) -> Delivery | None:
        row = conn.execute(
            text(f"SELECT {_DELIVERY_COLUMNS} FROM rg_event_delivery "
                 "WHERE event_id = :e AND flow = :f"), {"e": event_id, "f": flow}).first()
        return _delivery(row) if row else None

    # --- reading -----------------------------------------------------------------------

    def list(self, dead: bool = False, limit: int = 50) -> Sequence[Event]:
        """The newest events first, each with its deliveries; ``dead``: only events with a
        dead-lettered delivery."""
        clause = (" WHERE EXISTS (SELECT 1 FROM rg_event_delivery d WHERE d.event_id = e.id "
                  "AND d.status = 'dead')") if dead else ""
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                f"SELECT {', '.join('e.' + c for c in _EVENT_COLUMNS.split(', '))} "
                f"FROM rg_event e{clause} ORDER BY e.id DESC LIMIT :limit"), {"limit": limit}
            ).all()
            if not rows:
                return []
            ids = [row[0] for row in rows]
            found: dict[int, list[Delivery]] = {i: [] for i in ids}
            marks = ", ".join(f":i{n}" for n in range(len(ids)))
            for row in conn.execute(
                text(f"SELECT {_DELIVERY_COLUMNS} FROM rg_event_delivery WHERE event_id IN "
                     f"({marks}) ORDER BY event_id, flow"),
                {f"i{n}": i for n, i in enumerate(ids)},
            ):
                delivery = _delivery(row)
                if not dead or delivery.status == "dead":
                    found[delivery.event_id].append(delivery)
        return [_event(row, tuple(found[row[0]])) for row in rows]
