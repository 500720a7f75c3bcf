"""The annotation store: typed, time-ranged annotations of media assets in the metadata database.

Writes. ``put(producer, asset, annotations)`` checks every annotation first (what any type
must satisfy, then the type's JSON Schema) and writes nothing if one fails. It then writes,
in ONE transaction under the database's write lock: a new *set* (the producer's next
version for that asset), all its rows (one executemany), the flip of the
``(asset, producer)`` pointer to the new set, and an ``annotations`` event in the flows event
log (same database, same transaction: the event exists if and only if the rows do). A
producer's previous sets stay as they were, so they remain readable by version.

Reads. A query of an asset first reads which sets the pointer table names (or finds the one
named version), then the rows of those sets by their literal ids (so both planners range-scan
the window index once per set; given ``IN (subquery)``, PostgreSQL may scan the table).
A set is never changed once written, so the rows read are always the whole set the pointer
named: a reader sees a producer's old set or its new one, never a mix or a part, and the
writer never blocks it (SQLite: WAL snapshots; PostgreSQL: MVCC). Queries across all assets
select the current sets with a subquery instead. Results are ordered by ``start_ns``,
``end_ns``, id (across assets too).

Indexes (see ``timebins`` for why): ``(set_id, bin, start_ns)`` answers asset, type and
window queries; ``(label, confidence)`` label searches across assets; ``(feature,
feature_key)`` maps vector-index hits back to embedding references. Regions are filtered on
their bounding-box columns after those narrow the rows (no spatial index: a frame holds few
annotations, and queries are per asset or window).

Nearest neighbours of an embedding reference go through the feature store's vector index
when the caller passes one (``VectorIndex`` and the ``FeatureRef`` of the referenced feature
version); otherwise through the small float32 vectors stored inline with the annotations,
compared by brute-force cosine in numpy (fine for tens of thousands of candidates; restrict
with ``asset`` beyond that, or use the index).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection

from reelgraph.core import (
    Database,
    HoldsDatabase,
    InvalidInput,
    MetadataStore,
    NotFound,
    now_us,
    write_connection,
)
from reelgraph.flows import EventLog
from reelgraph.media.annotations.model import (
    Annotation,
    AnnotationSet,
    Producer,
    Region,
    check_annotation,
    check_name,
    check_producer,
    dump_json,
)
from reelgraph.media.annotations.schemas import SchemaRegistry
from reelgraph.media.annotations.tables import annotation_table, current_table, set_table
from reelgraph.media.annotations.timebins import bin_of, bin_ranges

if TYPE_CHECKING:
    from reelgraph.features import FeatureRef, VectorIndex

EVENT_KIND = "annotations"  # the event log's kind for "a producer wrote a set"
_BATCH = 20_000  # rows per executemany call (bounds the driver's buffers, not atomicity)
_MAX_FETCH = 10_000  # index hits looked at per neighbours call

_COLUMNS = tuple(annotation_table.c[name] for name in (
    "id", "set_id", "type", "schema_version", "start_ns", "end_ns", "x0", "y0", "x1", "y1",
    "polygon", "label", "confidence", "data", "vector"))
_ORDER = (annotation_table.c.start_ns, annotation_table.c.end_ns, annotation_table.c.id)
_CHUNK = 500  # ids per IN (...) list
Owner = tuple[str, str, int]  # a set's (asset, producer, version)


def _annotation(row: Any, owner: Owner) -> Annotation:
    (id_, _, type_, schema_version, start, end, x0, y0, x1, y1, polygon, label, confidence,
     data, vector) = row
    region = None
    if x0 is not None:
        points = tuple((p[0], p[1]) for p in json.loads(polygon)) if polygon else None
        region = Region(x0, y0, x1, y1, points)
    return Annotation(
        type_, start, end, region, label, confidence, json.loads(data) if data else {},
        tuple(np.frombuffer(vector, np.float32).tolist()) if vector is not None else None,
        schema_version, id_, *owner)


def _set(row: Any, is_current: bool) -> AnnotationSet:
    return AnnotationSet(row.id, row.asset,
                         Producer(row.producer, row.producer_version, row.run_id,
                                  row.model_version),
                         row.version, row.count, tuple(json.loads(row.types)), row.created_at,
                         is_current)


class AnnotationStore(MetadataStore):
    """Annotations in a workspace's metadata database (``AnnotationStore(ws)``).

    ``schemas`` holds the annotation types writes are checked against (the built-in ones by
    default; register more on ``store.schemas``).
    """

    def __init__(self, workspace: Database | HoldsDatabase, *,
                 schemas: SchemaRegistry | None = None) -> None:
        super().__init__(workspace)
        self.schemas = schemas if schemas is not None else SchemaRegistry()

    # --- writing -------------------------------------------------------------------------

    def put(self, producer: Producer, asset: str, annotations: Iterable[Annotation]
            ) -> AnnotationSet:
        """Replace ``producer``'s annotations of ``asset`` with these, atomically.

        Returns the new set (version ``previous + 1``); an empty iterable makes an empty set,
        which is how a producer retracts everything it said about an asset. Raises
        ``InvalidInput`` (nothing written) when any annotation is invalid.
        """
        check_producer(producer)
        check_name("the asset id", asset, "rg://media_asset/films/heat")
        rows = [self._row(a, f"annotation #{i}") for i, a in enumerate(annotations)]
        types = sorted({row["type"] for row in rows})
        created = now_us()
        with write_connection(self.engine) as conn, conn.begin():
            key = (set_table.c.asset == asset) & (set_table.c.producer == producer.name)
            version = conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(set_table.c.version), 0)).where(key)
            ).scalar_one() + 1
            set_id = conn.execute(sa.insert(set_table).values(
                asset=asset, producer=producer.name, version=version,
                producer_version=producer.version, run_id=producer.run_id,
                model_version=producer.model_version, count=len(rows),
                types=json.dumps(types), created_at=created,
            )).inserted_primary_key[0]  # type: ignore[index]
            for row in rows:
                row["set_id"] = set_id
            for start in range(0, len(rows), _BATCH):
                conn.execute(sa.insert(annotation_table), rows[start:start + _BATCH])
            replaced = self._flip(conn, asset, producer.name, set_id)
            EventLog.append_in(conn, f"annotations:{set_id}", EVENT_KIND, asset, payload={
                "asset": asset, "producer": producer.name, "version": version, "set": set_id,
                "replaced_version": replaced, "types": types, "count": len(rows),
                "producer_version": producer.version, "run_id": producer.run_id,
                "model_version": producer.model_version})
        return AnnotationSet(set_id, asset, producer, version, len(rows), tuple(types),
                             created, True)

    def _row(self, a: Annotation, where: str) -> dict[str, Any]:
        start, end = check_annotation(a, where)
        data = dump_json(a.data, where) if a.data else None
        schema_version = self.schemas.validate(a, start, end, json.loads(data) if data else {},
                                               where)
        region, ref = a.region, a.embedding_ref
        return {
            "type": a.type, "schema_version": schema_version, "start_ns": start,
            "end_ns": end, "bin": bin_of(start, end),
            "x0": float(region.x0) if region else None,
            "y0": float(region.y0) if region else None,
            "x1": float(region.x1) if region else None,
            "y1": float(region.y1) if region else None,
            "polygon": json.dumps(region.polygon) if region and region.polygon else None,
            "label": a.label,
            "confidence": float(a.confidence) if a.confidence is not None else None,
            "feature": ref[0] if ref else None, "feature_key": ref[1] if ref else None,
            "data": data,
            "vector": (np.asarray(a.vector, np.float32).tobytes()
                       if a.vector is not None else None),
        }

    @staticmethod
    def _flip(conn: Connection, asset: str, producer: str, set_id: int) -> int | None:
        """Point (asset, producer) at ``set_id``; returns the version it pointed at."""
        key = (current_table.c.asset == asset) & (current_table.c.producer == producer)
        replaced = conn.execute(
            sa.select(set_table.c.version)
            .join(current_table, current_table.c.set_id == set_table.c.id).where(key)
        ).scalar()
        if replaced is None:
            conn.execute(sa.insert(current_table).values(asset=asset, producer=producer,
                                                         set_id=set_id))
        else:
            conn.execute(sa.update(current_table).where(key).values(set_id=set_id))
        return int(replaced) if replaced is not None else None

    # --- reading -------------------------------------------------------------------------

    def query(self, asset: str | None = None, *, window: tuple[int, int] | None = None,
              types: str | Sequence[str] | None = None,
              region: Region | tuple[float, float, float, float] | None = None,
              label: str | None = None, min_confidence: float | None = None,
              producer: str | None = None, version: int | None = None,
              limit: int | None = None) -> list[Annotation]:
        """Annotations matching every filter given.

        - ``asset``: one asset (None: all assets);
        - ``window=(start_ns, end_ns)``: those overlapping it (``start < window_end and
          end > window_start``; half-open, so touching ranges do not overlap);
        - ``types``: one type or several;
        - ``region``: those whose region (bounding box) intersects this box, touching
          included; annotations without a region never match;
        - ``label`` / ``min_confidence``: equal label, confidence at least this;
        - ``producer``: one producer's; ``version``: that producer's set of that version
          (needs ``asset`` and ``producer``) instead of the current one.
        """
        a = annotation_table
        where: list[sa.ColumnElement[bool]] = []
        if window is not None:
            start, end = _window(window)
            where += [sa.or_(*(a.c.bin.between(lo, hi) for lo, hi in bin_ranges(start, end))),
                      a.c.start_ns < end, a.c.end_ns > start]
        if types is not None:
            # Not checked against ``schemas``: rows of a type another process registered
            # are readable here without its schema.
            where.append(a.c.type.in_([types] if isinstance(types, str) else list(types)))
        if region is not None:
            box = _box(region)
            where += [a.c.x0 <= box.x1, a.c.x1 >= box.x0, a.c.y0 <= box.y1, a.c.y1 >= box.y0]
        if label is not None:
            where.append(a.c.label == label)
        if min_confidence is not None:
            where.append(a.c.confidence >= _confidence(min_confidence))
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 0):
            raise InvalidInput(f"limit {limit!r} is not a count", "pass a non-negative int")
        with self.engine.connect() as conn:
            return self._read(conn, self._sets(conn, asset, producer, version), where,
                              producer, limit)

    def _sets(self, conn: Connection, asset: str | None, producer: str | None,
              version: int | None) -> dict[int, Owner] | None:
        """The sets a read covers, by id: the current ones of ``asset`` (one producer's or
        all), or one named version; None for every asset's current sets (too many to list).

        Reading the pointers and then the rows in two statements is safe: a set never
        changes once written, so the rows read are the whole set the pointer named.
        """
        if version is None:
            if asset is None:
                return None
            chosen = (sa.select(current_table.c.set_id, set_table.c.producer, set_table.c.version)
                      .join(set_table, set_table.c.id == current_table.c.set_id)
                      .where(current_table.c.asset == asset))
            if producer is not None:
                chosen = chosen.where(current_table.c.producer == producer)
            return {row[0]: (asset, row[1], row[2]) for row in conn.execute(chosen)}
        if asset is None or producer is None:
            raise InvalidInput("a version is one producer's set for one asset",
                               "pass asset= and producer= with version=")
        found = conn.execute(sa.select(set_table.c.id).where(
            set_table.c.asset == asset, set_table.c.producer == producer,
            set_table.c.version == version)).scalar()
        if found is None:
            known = [s.version for s in self.versions(asset, producer)]
            raise NotFound(f"{producer!r} has no version {version!r} of {asset!r}",
                           f"use one of {known}" if known else
                           "list them with versions(asset); this producer wrote none")
        return {found: (asset, producer, version)}

    def _read(self, conn: Connection, sets: dict[int, Owner] | None,
              where: Sequence[sa.ColumnElement[bool]], producer: str | None = None,
              limit: int | None = None) -> list[Annotation]:
        """Annotations of the chosen sets matching ``where``, in ``_ORDER``."""
        rows = self._rows(conn, sets, where, producer, limit, _COLUMNS)
        owners = sets if sets is not None else self._owners(conn, {row[1] for row in rows})
        return [_annotation(row, owners[row[1]]) for row in rows]

    @staticmethod
    def _rows(conn: Connection, sets: dict[int, Owner] | None,
              where: Sequence[sa.ColumnElement[bool]], producer: str | None,
              limit: int | None, columns: Sequence[Any]) -> list[Any]:
        set_id = annotation_table.c.set_id
        if sets is None:
            pointers = sa.select(current_table.c.set_id)
            if producer is not None:
                pointers = pointers.where(current_table.c.producer == producer)
            chosen = set_id.in_(pointers)
        elif not sets:
            return []
        else:  # literal ids: both planners then range-scan the window index per set
            chosen = set_id.in_(list(sets))
        stmt = sa.select(*columns).where(chosen, *where).order_by(*_ORDER).limit(limit)
        return list(conn.execute(stmt))

    @staticmethod
    def _owners(conn: Connection, set_ids: Iterable[int]) -> dict[int, Owner]:
        ids, owners = sorted(set_ids), {}
        for start in range(0, len(ids), _CHUNK):
            stmt = sa.select(set_table.c.id, set_table.c.asset, set_table.c.producer,
                             set_table.c.version).where(
                set_table.c.id.in_(ids[start:start + _CHUNK]))
            owners.update({row[0]: (row[1], row[2], row[3]) for row in conn.execute(stmt)})
        return owners

    def get(self, annotation_id: int) -> Annotation:
        found = self._by_ids([annotation_id])
        if not found:
            raise NotFound(f"no annotation {annotation_id!r}",
                           "pass the id of an annotation a query returned")
        return found[0]

    def _by_ids(self, ids: Sequence[int]) -> list[Annotation]:
        stmt = sa.select(*_COLUMNS).where(annotation_table.c.id.in_(list(ids)))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            owners = self._owners(conn, {row[1] for row in rows})
        return [_annotation(row, owners[row[1]]) for row in rows]

    def versions(self, asset: str, producer: str | None = None) -> list[AnnotationSet]:
        """Every set written for ``asset`` (one producer's, or all), by producer then
        version; ``current`` marks the ones queries read by default."""
        stmt = (sa.select(set_table, current_table.c.set_id.label("current_id"))
                .outerjoin(current_table, current_table.c.set_id == set_table.c.id)
                .where(set_table.c.asset == asset)
                .order_by(set_table.c.producer, set_table.c.version))
        if producer is not None:
            stmt = stmt.where(set_table.c.producer == producer)
        with self.engine.connect() as conn:
            return [_set(row, row.current_id is not None) for row in conn.execute(stmt)]

    # --- nearest neighbours --------------------------------------------------------------

    def neighbours(self, annotation: int | Annotation, k: int = 10, *,
                   asset: str | None = None, index: VectorIndex | None = None,
                   feature: FeatureRef | None = None) -> list[tuple[Annotation, float]]:
        """The ``k`` embedding annotations (of current sets) nearest to ``annotation``'s
        embedding by cosine similarity, best first, ``annotation`` itself left out.

        Only annotations referencing the same feature version are compared; ``asset``
        limits them to one asset. With ``index`` and ``feature`` (the ``FeatureRef`` of the
        referenced version, e.g. from the feature catalog) the vector index answers;
        without, the inline vectors do (both sides need one).
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidInput(f"k {k!r} is not a positive count", "pass k >= 1")
        source = self.get(annotation) if isinstance(annotation, int) else annotation
        ref = source.embedding_ref
        if ref is None:
            raise InvalidInput(f"annotation {source.id} is a {source.type!r}, not an "
                               "embedding reference", "pass an 'embedding' annotation")
        if index is not None or feature is not None:
            if index is None or feature is None:
                raise InvalidInput("neighbours through a vector index need both the index "
                                   "and the feature", "pass index= and feature= together")
            if feature.uri != ref[0]:
                raise InvalidInput(f"the annotation references {ref[0]}, not {feature.uri}",
                                   f"pass the FeatureRef of {ref[0]}")
            return self._indexed(source, ref, k, asset, index, feature)
        return self._brute_force(source, ref[0], k, asset)

    def _indexed(self, source: Annotation, ref: tuple[str, str], k: int, asset: str | None,
                 index: VectorIndex, feature: FeatureRef) -> list[tuple[Annotation, float]]:
        found = index.get(feature, [ref[1]])
        if ref[1] not in found:
            raise NotFound(f"{feature.uri} has no vector for key {ref[1]!r} in the index",
                           "materialize the feature for this key (and sync its replicas)")
        fetch = k + 1
        while True:
            hits = index.search(feature, found[ref[1]], fetch)
            scores = dict(hits)
            matches = [(a, scores[a.data["key"]]) for a in self._referencing(
                feature.uri, list(scores), asset) if a.id != source.id]
            if len(matches) >= k or len(hits) < fetch or fetch >= _MAX_FETCH:
                break
            fetch = min(fetch * 4, _MAX_FETCH)
        matches.sort(key=lambda m: (-m[1], m[0].asset or "", m[0].start_ns, m[0].id or 0))
        return matches[:k]

    def _referencing(self, feature: str, keys: list[str], asset: str | None
                     ) -> list[Annotation]:
        a = annotation_table
        with self.engine.connect() as conn:
            return self._read(conn, self._sets(conn, asset, None, None),
                              [a.c.feature == feature, a.c.feature_key.in_(keys)])

    def _brute_force(self, source: Annotation, feature: str, k: int, asset: str | None
                     ) -> list[tuple[Annotation, float]]:
        if source.vector is None:
            raise InvalidInput(
                f"annotation {source.id} keeps no inline vector to compare",
                "pass index= (the feature store's VectorIndex) and feature= (its FeatureRef), "
                "or store the vector inline: Annotation(..., vector=...)")
        query = np.asarray(source.vector, np.float32)
        norm = float(np.linalg.norm(query))
        if norm == 0.0:
            raise InvalidInput("the annotation's vector is all zeros, so it has no direction",
                               "store a non-zero vector")
        a = annotation_table
        where = [a.c.feature == feature, a.c.vector.is_not(None),
                 a.c.id != (source.id if source.id is not None else -1)]
        width = query.nbytes
        with self.engine.connect() as conn:
            found = self._rows(conn, self._sets(conn, asset, None, None), where, None, None,
                               (a.c.id, a.c.vector))
        rows = [(i, v) for i, v in found if len(v) == width]
        if not rows:
            return []
        matrix = np.frombuffer(b"".join(v for _, v in rows), np.float32).reshape(len(rows), -1)
        norms = np.linalg.norm(matrix, axis=1)
        norms[norms == 0] = np.inf  # a zero vector is similar to nothing
        scores = matrix @ (query / norm) / norms
        top = np.argsort(-scores, kind="stable")[:k]
        by_id = {a.id: a for a in self._by_ids([rows[i][0] for i in top])}
        return [(by_id[rows[i][0]], float(scores[i])) for i in top]


def _window(window: tuple[int, int]) -> tuple[int, int]:
    try:
        start, end = window
    except (TypeError, ValueError):
        raise InvalidInput(f"window {window!r} is not a (start_ns, end_ns) pair",
                           "pass window=(start_ns, end_ns)") from None
    if any(isinstance(t, bool) or not isinstance(t, int | np.integer) for t in (start, end)):
        raise InvalidInput(f"window {window!r} must hold integer nanoseconds",
                           "pass window=(start_ns, end_ns) as ints")
    if int(end) <= int(start):
        raise InvalidInput(f"the window ends ({end}) before it starts ({start})",
                           "pass window=(start_ns, end_ns) with end_ns > start_ns")
    return int(start), int(end)


def _box(region: Region | tuple[float, float, float, float] | Mapping[str, Any]) -> Region:
    if isinstance(region, Region):
        return region
    try:
        x0, y0, x1, y1 = (float(v) for v in region)
    except (TypeError, ValueError):
        raise InvalidInput(f"region {region!r} is not a box",
                           "pass a Region or (x0, y0, x1, y1) in 0..1") from None
    return Region(x0, y0, x1, y1)


def _confidence(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInput(f"min_confidence {value!r} is outside [0, 1]",
                           "pass a confidence between 0 and 1")
    return float(value)
