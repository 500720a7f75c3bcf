"""Precomputed answers in the online store, each with when and from what it was computed.

Three entries per (model version, canvas, serving key): the answer (a table), its
``computed_at`` (unix seconds) and its ``basis``: the request time it was scored at and a
digest of the member's events since the model's cut-off it saw (``basis``). All three are
read in one call. A request is answered from the store only when its own basis matches, so
an answer computed before a member's newest interaction is never served as theirs.
Entries are keyed by the model version, so a newly swapped-in version never serves its
predecessor's answers, and a rollback finds its own answers still there.

``invalidate`` removes a set of entries (a canvas, some users, answers holding some items,
or a whole version) and hands back what it removed, so ``restore`` can put it back: the
RecSysOps hotfix keeps that snapshot as an artifact.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reelgraph.features import FeatureRef, OnlineStore
from reelgraph.recsys import ScoredBatch

NAMESPACE = "recs"
ENTITY = "serving_key"
Answer = list[tuple[str, float]]  # best first


@dataclass(frozen=True)
class Precomputed:
    items: Answer
    computed_at: float  # unix seconds
    basis: str = ""  # ``basis(...)`` of the request it answers


def basis(at: int, recent: Sequence[tuple[str, int]] = ()) -> str:
    """What an answer depends on beyond its serving key: the request time and the member's
    events since the model's cut-off (as the interaction log gave them)."""
    if not recent:
        return f"{at}:"
    digest = hashlib.blake2b(repr(list(recent)).encode(), digest_size=8).hexdigest()
    return f"{at}:{digest}"


def _refs(model: str, version: int, canvas: str) -> tuple[FeatureRef, FeatureRef, FeatureRef]:
    name = f"{model.replace('/', '.')}.{canvas}"
    return (FeatureRef(NAMESPACE, name, f"v{version}", ENTITY, {"kind": "table"}),
            FeatureRef(NAMESPACE, f"{name}.computed_at", f"v{version}", ENTITY,
                       {"kind": "scalar", "dtype": "float64"}),
            FeatureRef(NAMESPACE, f"{name}.basis", f"v{version}", ENTITY,
                       {"kind": "scalar", "dtype": "string"}))


def user_of(key: str) -> str | None:
    """The member a serving key belongs to (``42``, ``42/Comedy``); None for ``item:1``."""
    return None if key.startswith("item:") else key.split("/", 1)[0]


@dataclass(frozen=True)
class Removed:
    """Entries taken out of the store, as they were (to put back with ``restore``)."""

    version: int
    canvas: str
    entries: dict[str, Precomputed]

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "canvas": self.canvas,
                "entries": {k: {"items": [list(p) for p in e.items],
                                "computed_at": e.computed_at, "basis": e.basis}
                            for k, e in self.entries.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Removed:
        return cls(int(data["version"]), str(data["canvas"]), {
            k: Precomputed([(str(i), float(s)) for i, s in e["items"]],
                           float(e["computed_at"]), str(e["basis"]))
            for k, e in data["entries"].items()})


class NearlineStore:
    """A model's precomputed answers in an online store: written, read, selected, removed
    and restored per (version, canvas, serving key)."""

    def __init__(self, store: OnlineStore, model: str) -> None:
        self.store = store
        self.model = model

    def write(self, version: int, canvas: str, batch: ScoredBatch, at_basis: str,
              computed_at: float | None = None) -> set[str]:
        """Store a precomputed batch, every answer with the same ``basis``, except over
        answers computed with a member's own newer events: returns those members (to
        recompute with their events, not to overwrite with an answer they cannot use)."""
        based = _refs(self.model, version, canvas)[2]
        stored = self.store.get(based, batch.keys)
        fresh = {key for key, value in stored.items() if not str(value).endswith(":")}
        self.put(version, canvas, {
            key: list(zip(items, scores, strict=True))
            for key, items, scores in zip(batch.keys, batch.items, batch.scores, strict=True)
            if key not in fresh}, dict.fromkeys(batch.keys, at_basis), computed_at)
        return {u for key in fresh if (u := user_of(key)) is not None}

    def put(self, version: int, canvas: str, answers: Mapping[str, Answer],
            bases: Mapping[str, str], computed_at: float | Mapping[str, float] | None = None
            ) -> None:
        if not answers:
            return
        table, stamps, based = _refs(self.model, version, canvas)
        at = time.time() if computed_at is None else computed_at
        self.store.put(table, {key: [{"item": i, "score": s} for i, s in items]
                               for key, items in answers.items()})
        self.store.put(based, {key: bases[key] for key in answers})
        # The stamp goes last: a reader between the writes finds no stamp or an older one
        # (at worst recomputed online), never old answers called fresh.
        self.store.put(stamps, {key: at if isinstance(at, float | int) else at[key]
                                for key in answers})

    def read(self, version: int, canvas: str, key: str) -> Precomputed | None:
        answers, stamps, bases = self.store.read(_refs(self.model, version, canvas), [key])
        rows: list[dict[str, Any]] | None = answers.get(key)
        at = stamps.get(key)
        if rows is None or at is None:
            return None
        return Precomputed([(r["item"], float(r["score"])) for r in rows], float(at),
                           str(bases.get(key, "")))

    def keys(self, version: int, canvas: str) -> set[str]:
        return set(self.store.keys(_refs(self.model, version, canvas)[1]))

    def freshness(self, version: int, canvas: str) -> tuple[int, float | None]:
        """(answers stored, the oldest one's time) for a version's canvas."""
        stamps = _refs(self.model, version, canvas)[1]
        keys = sorted(self.store.keys(stamps))
        found = self.store.get(stamps, keys) if keys else {}
        return len(found), min(found.values(), default=None)

    def select(self, version: int, canvas: str, users: Iterable[str] | None = None,
               items: Iterable[str] | None = None) -> list[str]:
        """The stored keys of a version's canvas: all of them, or those of ``users`` and
        those whose answer (or source item) is one of ``items``."""
        keys = sorted(self.keys(version, canvas))
        if users is None and items is None:
            return keys
        wanted_users = {str(u) for u in users or ()}
        wanted_items = {str(i) for i in items or ()}
        chosen = {k for k in keys if user_of(k) in wanted_users
                  or (k.removeprefix("item:") in wanted_items and k.startswith("item:"))}
        if wanted_items:
            table = _refs(self.model, version, canvas)[0]
            for key, rows in self.store.get(table, keys).items():
                if any(r["item"] in wanted_items for r in rows):
                    chosen.add(key)
        return sorted(chosen)

    def remove(self, version: int, canvas: str, keys: Sequence[str]) -> Removed:
        """Take ``keys`` out (the stamp first, so no reader sees a half-removed entry);
        returns what they held."""
        refs = _refs(self.model, version, canvas)
        if not keys:
            return Removed(version, canvas, {})
        answers, stamps, bases = self.store.read(refs, list(keys))
        kept = {key: Precomputed([(r["item"], float(r["score"])) for r in answers[key]],
                                 float(stamps[key]), str(bases.get(key, "")))
                for key in keys if key in answers and key in stamps}
        for ref in (refs[1], refs[0], refs[2]):
            self.store.delete(ref, list(keys))
        return Removed(version, canvas, kept)

    def restore(self, removed: Removed) -> int:
        """Put removed entries back as they were; returns how many."""
        entries = removed.entries
        self.put(removed.version, removed.canvas, {k: e.items for k, e in entries.items()},
                 {k: e.basis for k, e in entries.items()},
                 {k: e.computed_at for k, e in entries.items()})
        return len(entries)
