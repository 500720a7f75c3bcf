"""Ranked match-cut pairs and the reviewers' decisions on them.

A ``MatchPair`` is one candidate of one kind: shot A (the outgoing shot), shot B, the score
its kind's scorer gave and the scorer's name. Its id is a hash of kind and the two shot keys,
so it is stable across runs. ``PairStore`` keeps the latest ranking as one JSON artifact
named by a graph node (``rg://artifact/matchcut/pairs``, written in one graph batch: a
reader sees the old ranking or the new). Decisions are annotations of shot A's asset by the
producer ``review/<reviewer>`` (type ``json``, data ``{pair, kind, decision, other}``),
replacing that reviewer's previous set for the asset atomically.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from reelgraph.core import InvalidInput, NotFound
from reelgraph.flows import Workspace
from reelgraph.graph import NodeKey
from reelgraph.matchcut.scorers import KINDS
from reelgraph.media import Annotation, AnnotationStore, Producer

RANKING = NodeKey("artifact", "matchcut", "pairs")
REVIEW_PREFIX = "review/"
DECISIONS = ("accept", "reject")


class UnknownPair(NotFound):
    pass


@dataclass(frozen=True)
class MatchPair:
    id: str
    kind: str
    shot_a: str  # shot keys "<sha256>:<index>"
    shot_b: str
    title_a: str  # file names
    title_b: str
    asset_a: str  # asset URIs
    asset_b: str
    span_a: tuple[int, int]  # [start_ns, end_ns)
    span_b: tuple[int, int]
    score: float
    scorer: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchPair:
        return cls(**{**data, "span_a": tuple(data["span_a"]), "span_b": tuple(data["span_b"])})


def pair_id(kind: str, shot_a: str, shot_b: str) -> str:
    return hashlib.sha256(f"{kind}|{shot_a}|{shot_b}".encode()).hexdigest()[:12]


class PairStore:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def save(self, pairs: Iterable[MatchPair]) -> str:
        rows = [p.to_dict() for p in pairs]
        digest = self.ws.artifacts.put_bytes(json.dumps(rows, sort_keys=True).encode())
        with self.ws.graph.batch(author="matchcut") as write:
            write.add(RANKING, description="ranked match-cut candidates",
                      properties={"digest": digest, "pairs": len(rows)})
        return digest

    def all(self) -> list[MatchPair]:
        node = self.ws.graph.get(RANKING)
        if node is None:
            return []
        rows = json.loads(self.ws.artifacts.get_bytes(node.properties["digest"]))
        return [MatchPair.from_dict(row) for row in rows]

    def list(self, *, kind: str | None = None, title: str | None = None,
             min_score: float | None = None, limit: int | None = None) -> list[MatchPair]:
        """The ranking, best first within each kind, filtered."""
        if kind is not None and kind not in KINDS:
            raise InvalidInput(f"unknown match kind {kind!r}", f"use one of {KINDS}")
        found = [p for p in self.all() if (kind is None or p.kind == kind)
                 and (title is None or title in (p.title_a, p.title_b))
                 and (min_score is None or p.score >= min_score)]
        return found[:limit] if limit is not None else found

    def get(self, pair: str) -> MatchPair:
        for candidate in self.all():
            if candidate.id == pair:
                return candidate
        raise UnknownPair(f"no match-cut pair {pair!r}",
                          "list the pairs with `reelgraph matchcut list` and use an id shown")

    def review(self, pair: str, decision: str, reviewer: str) -> MatchPair:
        """Record a reviewer's decision on a pair (a new annotation set of shot A's asset)."""
        if decision not in DECISIONS:
            raise InvalidInput(f"unknown decision {decision!r}", f"use one of {DECISIONS}")
        if not reviewer or "/" in reviewer:
            raise InvalidInput(f"reviewer {reviewer!r} is not a name",
                               "pass a reviewer name without '/'")
        found = self.get(pair)
        producer = f"{REVIEW_PREFIX}{reviewer}"
        store = AnnotationStore(self.ws)
        try:
            kept = [a for a in store.query(found.asset_a, types="json", producer=producer)
                    if a.data.get("pair") != found.id]
            mine = Annotation("json", *found.span_a, data={
                "pair": found.id, "kind": found.kind, "decision": decision,
                "other": found.shot_b, "shot": found.shot_a})
            store.put(Producer(producer, "1"), found.asset_a, [*kept, mine])
        finally:
            store.close()
        return found

    def decisions(self, pairs: Iterable[MatchPair] | None = None) -> dict[str, str]:
        """The latest decision per pair id (any reviewer; a later set wins on a tie)."""
        chosen = list(pairs) if pairs is not None else self.all()
        assets = sorted({p.asset_a for p in chosen})
        result: dict[str, str] = {}
        store = AnnotationStore(self.ws)
        try:
            for asset in assets:
                for note in store.query(asset, types="json"):
                    if (str(note.producer).startswith(REVIEW_PREFIX) and "pair" in note.data
                            and note.data.get("decision") in DECISIONS):
                        result[str(note.data["pair"])] = str(note.data["decision"])
        finally:
            store.close()
        return result
