"""The registry's tables in the metadata database, and the plain records read from them.

Every write happens inside ``write()``: one transaction holding the database's write lock
(BEGIN IMMEDIATE on SQLite, the advisory lock on PostgreSQL), so "read the highest version,
insert the next" and "check the stage, move it" never race with another writer, in this
process or any other. Rows become records here and never leave as rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text

from reelgraph.artifacts import ArtifactRef
from reelgraph.core import write_connection
from reelgraph.flows.registry.gates import Gate, GateResult, gate_from_dict
from reelgraph.flows.registry.names import version_key


@dataclass(frozen=True)
class ModelVersion:
    model: str  # NAMESPACE/NAME
    version: int
    stage: str
    run_id: str
    step: str
    artifact: ArtifactRef
    metrics: dict[str, float]
    signature: dict[str, Any]
    description: str
    owner: str
    created_by: str
    created_at: int  # microseconds since the epoch, UTC

    @property
    def uri(self) -> str:
        return version_key(self.model, self.version).uri

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "version": self.version, "uri": self.uri, "stage": self.stage,
            "run_id": self.run_id, "step": self.step, "artifact": self.artifact.to_dict(),
            "metrics": self.metrics, "signature": self.signature,
            "description": self.description, "owner": self.owner,
            "created_by": self.created_by, "created_at": self.created_at,
        }


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str
    owner: str
    created_at: int
    latest: int | None = None
    production: int | None = None
    versions: tuple[ModelVersion, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "owner": self.owner,
                "created_at": self.created_at, "latest": self.latest,
                "production": self.production, "versions": [v.to_dict() for v in self.versions]}


@dataclass(frozen=True)
class Transition:
    """One line of the audit: a stage move that was applied, or one a gate refused."""

    id: int
    model: str
    version: int
    from_stage: str
    to_stage: str
    outcome: str  # applied, refused
    who: str
    why: str
    at: int
    gates: tuple[GateResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "model": self.model, "version": self.version,
                "from_stage": self.from_stage, "to_stage": self.to_stage,
                "outcome": self.outcome, "who": self.who, "why": self.why, "at": self.at,
                "gates": [g.to_dict() for g in self.gates]}


@dataclass(frozen=True)
class DeclaredGate:
    model: str
    stage: str
    gate: Gate
    created_by: str
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "stage": self.stage, "name": self.gate.name,
                "gate": self.gate.to_dict(), "created_by": self.created_by,
                "created_at": self.created_at}


@dataclass(frozen=True)
class Consumer:
    model: str
    consumer: str  # NAMESPACE/NAME
    owner: str
    created_by: str
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "consumer": self.consumer, "owner": self.owner,
                "created_by": self.created_by, "created_at": self.created_at}


_VERSION_COLUMNS = ("model, version, stage, run_id, step, artifact, metrics, signature, "
                    "description, owner, created_by, created_at")
_TRANSITION_COLUMNS = "id, model, version, from_stage, to_stage, outcome, who, why, at, gates"


def _version(row: Any) -> ModelVersion:
    return ModelVersion(row[0], int(row[1]), row[2], row[3], row[4],
                        ArtifactRef.from_dict(json.loads(row[5])), json.loads(row[6]),
                        json.loads(row[7]), row[8], row[9], row[10], int(row[11]))


def _transition(row: Any) -> Transition:
    gates = tuple(GateResult.from_dict(g) for g in json.loads(row[9]))
    return Transition(int(row[0]), row[1], int(row[2]), row[3], row[4], row[5], row[6], row[7],
                      int(row[8]), gates)


class RegistryStore:
    """SQL for the registry; methods take the connection so callers compose transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # migrated by the RunStore that shares it

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with write_connection(self.engine) as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # --- models -------------------------------------------------------------------------

    def model(self, conn: Connection, name: str) -> RegisteredModel | None:
        row = conn.execute(
            text("SELECT m.name, m.description, m.owner, m.created_at, "
                 "(SELECT MAX(version) FROM rg_model_version v WHERE v.model = m.name), "
                 "(SELECT MAX(version) FROM rg_model_version v WHERE v.model = m.name "
                 "AND v.stage = 'production') FROM rg_model m WHERE m.name = :name"),
            {"name": name}).first()
        return None if row is None else RegisteredModel(row[0], row[1], row[2], int(row[3]),
                                                        row[4], row[5])

    def models(self, conn: Connection) -> list[RegisteredModel]:
        names = conn.execute(text("SELECT name FROM rg_model ORDER BY name")).scalars().all()
        return [m for m in (self.model(conn, n) for n in names) if m is not None]

    def add_model(self, conn: Connection, name: str, description: str, owner: str,
                  at: int) -> None:
        conn.execute(
            text("INSERT INTO rg_model (name, description, owner, created_at) "
                 "VALUES (:n, :d, :o, :t) ON CONFLICT (name) DO NOTHING"),
            {"n": name, "d": description, "o": owner, "t": at})

    # --- versions -----------------------------------------------------------------------

    def next_version(self, conn: Connection, model: str) -> int:
        """Safe only inside ``write()``: the write lock makes read-then-insert atomic."""
        top = conn.execute(text("SELECT MAX(version) FROM rg_model_version WHERE model = :m"),
                           {"m": model}).scalar()
        return int(top or 0) + 1

    def add_version(self, conn: Connection, v: ModelVersion) -> None:
        conn.execute(
            text(f"INSERT INTO rg_model_version ({_VERSION_COLUMNS}) VALUES (:model, :version, "
                 ":stage, :run_id, :step, :artifact, :metrics, :signature, :description, "
                 ":owner, :created_by, :created_at)"),
            {**v.to_dict(), "artifact": json.dumps(v.artifact.to_dict()),
             "metrics": json.dumps(v.metrics), "signature": json.dumps(v.signature)})

    def version(self, conn: Connection, model: str, version: int) -> ModelVersion | None:
        row = conn.execute(
            text(f"SELECT {_VERSION_COLUMNS} FROM rg_model_version "
                 "WHERE model = :m AND version = :v"), {"m": model, "v": version}).first()
        return None if row is None else _version(row)

    def versions(self, conn: Connection, model: str, stage: str | None = None
                 ) -> list[ModelVersion]:
        clause = " AND stage = :s" if stage else ""
        rows = conn.execute(
            text(f"SELECT {_VERSION_COLUMNS} FROM rg_model_version WHERE model = :m{clause} "
                 "ORDER BY version"), {"m": model, "s": stage})
        return [_version(r) for r in rows]

    def set_stage(self, conn: Connection, model: str, version: int, stage: str) -> None:
        conn.execute(text("UPDATE rg_model_version SET stage = :s WHERE model = :m "
                          "AND version = :v"), {"s": stage, "m": model, "v": version})

    # --- audit --------------------------------------------------------------------------

    def add_transition(self, conn: Connection, model: str, version: int, from_stage: str,
                       to_stage: str, outcome: str, who: str, why: str, at: int,
                       gates: Sequence[GateResult]) -> None:
        conn.execute(
            text("INSERT INTO rg_model_transition (model, version, from_stage, to_stage, "
                 "outcome, who, why, at, gates) VALUES (:m, :v, :f, :t, :o, :who, :why, :at, "
                 ":g)"),
            {"m": model, "v": version, "f": from_stage, "t": to_stage, "o": outcome,
             "who": who, "why": why, "at": at, "g": json.dumps([g.to_dict() for g in gates])})

    def transitions(self, conn: Connection, model: str, version: int | None = None
                    ) -> list[Transition]:
        clause = " AND version = :v" if version is not None else ""
        rows = conn.execute(
            text(f"SELECT {_TRANSITION_COLUMNS} FROM rg_model_transition WHERE model = :m"
                 f"{clause} ORDER BY id"), {"m": model, "v": version})
        return [_transition(r) for r in rows]

    # --- gates --------------------------------------------------------------------------

    def put_gate(self, conn: Connection, model: str, stage: str, gate: Gate, who: str,
                 at: int) -> None:
        conn.execute(
            text("INSERT INTO rg_model_gate (model, stage, name, spec, created_by, created_at) "
                 "VALUES (:m, :s, :n, :spec, :who, :at) ON CONFLICT (model, stage, name) "
                 "DO UPDATE SET spec = EXCLUDED.spec, created_by = EXCLUDED.created_by, "
                 "created_at = EXCLUDED.created_at"),
            {"m": model, "s": stage, "n": gate.name, "spec": json.dumps(gate.to_dict()),
             "who": who, "at": at})

    def remove_gate(self, conn: Connection, model: str, stage: str, name: str) -> int:
        done = conn.execute(
            text("DELETE FROM rg_model_gate WHERE model = :m AND stage = :s AND name = :n"),
            {"m": model, "s": stage, "n": name})
        return int(done.rowcount)

    def gates(self, conn: Connection, model: str, stage: str | None = None
              ) -> list[DeclaredGate]:
        clause = " AND stage = :s" if stage else ""
        rows = conn.execute(
            text("SELECT model, stage, spec, created_by, created_at FROM rg_model_gate "
                 f"WHERE model = :m{clause} ORDER BY stage, name"), {"m": model, "s": stage})
        return [DeclaredGate(r[0], r[1], gate_from_dict(json.loads(r[2])), r[3], int(r[4]))
                for r in rows]

    # --- consumers ----------------------------------------------------------------------

    def add_consumer(self, conn: Connection, c: Consumer) -> bool:
        """False when the consumer was already subscribed (nothing changes then)."""
        done = conn.execute(
            text("INSERT INTO rg_model_consumer (model, consumer, owner, created_by, "
                 "created_at) VALUES (:model, :consumer, :owner, :created_by, :created_at) "
                 "ON CONFLICT (model, consumer) DO NOTHING"), c.to_dict())
        return bool(done.rowcount)

    def remove_consumer(self, conn: Connection, model: str, consumer: str) -> int:
        done = conn.execute(
            text("DELETE FROM rg_model_consumer WHERE model = :m AND consumer = :c"),
            {"m": model, "c": consumer})
        return int(done.rowcount)

    def consumers(self, conn: Connection, model: str) -> list[Consumer]:
        rows = conn.execute(
            text("SELECT model, consumer, owner, created_by, created_at FROM rg_model_consumer "
                 "WHERE model = :m ORDER BY consumer"), {"m": model})
        return [Consumer(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]
