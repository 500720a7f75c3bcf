"""Replay: a logged request answered again, in isolation, to tell inputs from model.

``replay(ops, request_id)`` rebuilds the request from its logged inputs, scores it with the
logged model version from the registry (through serving's own online path), applies the
overlay rules the log says applied, and compares with the logged answer (same items, scores
within ``TOLERANCE``). It also crosses the two halves: logged inputs with the current
production version, and inputs recomputed now (the member's history as it stands, no logged
time) with the logged version. ``fidelity`` is the share of a sample that reproduces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

from reelgraph.core import NotFound
from reelgraph.ops.overlay import rewrite
from reelgraph.ops.store import Rule

if TYPE_CHECKING:
    import pyarrow as pa

    from reelgraph.ops.operations import RecSysOps

TOLERANCE = 1e-6
Answer = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Outcome:
    version: int
    inputs: str  # logged or recomputed
    answer: Answer
    identical: bool
    max_score_diff: float | None  # over the items both answers share

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "inputs": self.inputs, "identical": self.identical,
                "max_score_diff": self.max_score_diff,
                "items": [{"item": i, "score": s} for i, s in self.answer]}


@dataclass(frozen=True)
class ReplayReport:
    request_id: str
    logged: Answer
    logged_version: int
    cells: list[Outcome]  # [logged inputs x logged model] first

    @property
    def identical(self) -> bool:
        return self.cells[0].identical

    def to_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "identical": self.identical,
                "logged_version": self.logged_version,
                "logged": [{"item": i, "score": s} for i, s in self.logged],
                "cells": [c.to_dict() for c in self.cells]}


def find_impression(ops: RecSysOps, request_id: str) -> dict[str, Any]:
    assert ops.impressions_root is not None
    files = sorted(str(p) for p in ops.impressions_root.glob("date=*/*.parquet"))
    rows: list[dict[str, Any]] = []
    if files:
        with duckdb.connect() as con:
            rows = con.sql("SELECT * FROM read_parquet(?) WHERE request_id = ?",
                               params=[files, request_id]).to_arrow_table().to_pylist()
    if not rows:
        raise NotFound(f"no logged request {request_id!r}",
                       "pass a request_id from an answer (or `reelgraph ops alerts`); only "
                       "sampled requests are logged")
    return rows[0]


def compare(logged: Answer, replayed: Answer) -> tuple[bool, float | None]:
    mine = dict(replayed)
    shared = [abs(s - mine[i]) for i, s in logged if i in mine]
    diff = max(shared) if shared else None
    same_items = [i for i, _ in logged] == [i for i, _ in replayed]
    return same_items and (diff is None or diff <= TOLERANCE), diff


def answer(ops: RecSysOps, row: dict[str, Any], version: int, logged_inputs: bool = True,
           rules: list[Rule] | None = None) -> Answer:
    """The logged request scored by ``version`` (inputs as logged, or as they are now)."""
    deployed = ops.deployed(version)
    context = json.loads(row["context"] or "{}") if logged_inputs else {}
    request = deployed.recommender.request(
        row["canvas"], user=row["user"], item=row["item"], query=row["query"],
        category=row["category"], k=int(row["k"]), context=context)
    found = deployed.answer_online(request).items
    return rewrite(found, rules, int(row["k"]))[0] if rules else found


def replay_row(ops: RecSysOps, row: dict[str, Any], cross: bool = True) -> ReplayReport:
    from reelgraph.ops.operations import version_number

    logged: Answer = tuple(zip(row["items"], row["scores"], strict=True))
    version = version_number(row["model_version"])
    rules = [r for r in ops.store.rules() if str(r.id) in set(row["rules"] or [])]
    cells = []
    grid = [(version, True)]
    if cross:
        grid += [(ops.production_version(), True), (version, False)]
    for chosen, logged_inputs in grid:
        found = answer(ops, row, chosen, logged_inputs, rules)
        same, diff = compare(logged, found)
        cells.append(Outcome(chosen, "logged" if logged_inputs else "recomputed", found, same,
                             diff))
    return ReplayReport(row["request_id"], logged, version, cells)


def replay(ops: RecSysOps, request_id: str) -> ReplayReport:
    return replay_row(ops, find_impression(ops, request_id))


def fidelity(ops: RecSysOps, impressions: pa.Table, sample: int = 500, seed: int = 0
             ) -> tuple[float, int]:
    """(share of answered requests whose replay is identical, requests replayed)."""
    import numpy as np

    rows = [r for r in impressions.to_pylist()
            if r["error"] is None and r["model_version"] and r["environment"] != "shadow"]
    if not rows:
        return float("nan"), 0
    chosen = np.random.default_rng(seed).choice(len(rows), min(sample, len(rows)),
                                                replace=False)
    same = sum(replay_row(ops, rows[i], cross=False).identical for i in chosen)
    return same / len(chosen), len(chosen)
