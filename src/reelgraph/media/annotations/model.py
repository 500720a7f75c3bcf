"""The values that cross the annotation store's boundary: annotations, regions, producers, sets.

Times are integer nanoseconds from the start of the asset, half-open: ``[start_ns, end_ns)``
holds ``start_ns`` and stops just before ``end_ns``, so back-to-back shots share no instant.
Regions are in normalised frame coordinates, ``x`` to the right and ``y`` down, ``0..1`` on
both axes, whatever the frame's pixel size; a region is a closed box, so two boxes that touch
intersect.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reelgraph.core import InvalidInput

MAX_VECTOR_DIM = 4096  # inline vectors are for small embeddings; bigger ones live in features
MAX_TEXT = 1000  # characters in an asset id, producer name, label


@dataclass(frozen=True)
class Region:
    """A box ``(x0, y0)``-``(x1, y1)``, or a polygon and its bounding box (queries test the
    bounding box)."""

    x0: float
    y0: float
    x1: float
    y1: float
    polygon: tuple[tuple[float, float], ...] | None = None

    @classmethod
    def box(cls, x0: float, y0: float, x1: float, y1: float) -> Region:
        return cls(float(x0), float(y0), float(x1), float(y1))

    @classmethod
    def from_polygon(cls, points: Iterable[Sequence[float]]) -> Region:
        """A polygon of three or more ``(x, y)`` points, in order."""
        try:
            pts = tuple((float(p[0]), float(p[1])) for p in points)
        except (TypeError, ValueError, IndexError):
            raise InvalidInput("a polygon's points must be (x, y) pairs of numbers",
                               "pass points like [(0.1, 0.2), (0.5, 0.2), (0.3, 0.6)]"
                               ) from None
        if len(pts) < 3:
            raise InvalidInput(f"a polygon needs at least 3 points, got {len(pts)}",
                               "pass three or more (x, y) points, or use Region.box")
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return cls(min(xs), min(ys), max(xs), max(ys), pts)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)

    def intersects(self, other: Region) -> bool:
        """Whether the bounding boxes share a point (touching counts)."""
        return (self.x0 <= other.x1 and other.x0 <= self.x1
                and self.y0 <= other.y1 and other.y0 <= self.y1)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"box": list(self.bounds)}
        if self.polygon is not None:
            out["polygon"] = [list(p) for p in self.polygon]
        return out


@dataclass(frozen=True)
class Producer:
    """Who wrote a set of annotations: ``name`` (``shots/content-detector``), the producer's
    own ``version``, the flow ``run_id`` and the ``model_version`` it used, when known."""

    name: str
    version: str = ""
    run_id: str | None = None
    model_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "run_id": self.run_id,
                "model_version": self.model_version}


@dataclass(frozen=True)
class Annotation:
    """One typed annotation of ``[start_ns, end_ns)`` of an asset, optionally of a region.

    Type-specific fields: ``label`` and ``confidence`` (``label``, ``detection``), ``data``
    (JSON: ``{"feature": URI, "key": KEY}`` for ``embedding``, anything for ``json``) and an
    optional inline ``vector`` (``embedding``; any sequence of numbers, kept as float32).
    ``schema_version`` None means the type's newest schema. ``id``, ``asset``, ``producer``
    and ``version`` (of the producer's set) are filled in when read from the store.
    """

    type: str
    start_ns: int
    end_ns: int
    region: Region | None = None
    label: str | None = None
    confidence: float | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    vector: tuple[float, ...] | None = None
    schema_version: int | None = None
    id: int | None = None
    asset: str | None = None
    producer: str | None = None
    version: int | None = None

    def __post_init__(self) -> None:
        if self.vector is not None and not isinstance(self.vector, tuple):
            try:
                object.__setattr__(self, "vector", tuple(float(v) for v in self.vector))
            except (TypeError, ValueError):
                raise InvalidInput("an annotation's vector must be a sequence of numbers",
                                   "pass a list or 1-d numpy array of floats") from None

    @property
    def embedding_ref(self) -> tuple[str, str] | None:
        """``(feature URI, entity key)`` of an embedding reference, else None."""
        feature, key = self.data.get("feature"), self.data.get("key")
        if self.type != "embedding" or not isinstance(feature, str) or not isinstance(key, str):
            return None
        return feature, key

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "asset": self.asset, "producer": self.producer,
                "version": self.version, "type": self.type,
                "schema_version": self.schema_version, "start_ns": self.start_ns,
                "end_ns": self.end_ns,
                "region": self.region.to_dict() if self.region is not None else None,
                "label": self.label, "confidence": self.confidence, "data": dict(self.data),
                "vector": list(self.vector) if self.vector is not None else None}


@dataclass(frozen=True)
class AnnotationSet:
    """One producer's annotations of one asset as one write made them: ``version`` counts
    from 1 per (asset, producer); ``current`` marks the set queries read by default."""

    id: int
    asset: str
    producer: Producer
    version: int
    count: int
    types: tuple[str, ...]
    created_at: int  # microseconds since the epoch, UTC
    current: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "asset": self.asset, "producer": self.producer.to_dict(),
                "version": self.version, "count": self.count, "types": list(self.types),
                "created_at": self.created_at, "current": self.current}


# --- checks every annotation passes, whatever its type -------------------------------------


def check_name(what: str, value: object, example: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} must be a non-empty string of at most {MAX_TEXT} characters,"
                           f" got {value!r}", f"pass one like {example!r}")
    if value != value.strip() or "\x00" in value:
        raise InvalidInput(f"{what} {value!r} has surrounding spaces or a NUL character",
                           f"pass one like {example!r}")
    return value


def check_producer(producer: Producer) -> None:
    if not isinstance(producer, Producer):
        raise InvalidInput(f"the producer must be a Producer, got {type(producer).__name__}",
                           "pass Producer('shots/content-detector', version='1.0')")
    check_name("the producer name", producer.name, "shots/content-detector")
    for label, value in (("version", producer.version), ("run_id", producer.run_id),
                         ("model_version", producer.model_version)):
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            raise InvalidInput(f"the producer's {label} must be a string, got {value!r}",
                               f"pass {label} as a string (or leave it out)")


def _integer(value: object, where: str, name: str) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidInput(f"{where}: {name} must be an integer number of nanoseconds, "
                           f"got {value!r}", f"pass {name} as an int (seconds * 10**9)"
                           ) from None


def _unit(value: object, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # type: ignore[arg-type]  # numpy floats and the like
        except (TypeError, ValueError):
            raise InvalidInput(f"{where}: {name} must be a number, got {value!r}",
                               f"pass {name} as a float between 0 and 1") from None
    number = float(value)
    if not 0.0 <= number <= 1.0:  # also refuses NaN
        raise InvalidInput(f"{where}: {name} {number!r} is outside [0, 1]",
                           f"pass {name} between 0 and 1 (coordinates are normalised by the "
                           "frame's width and height)" if name != "confidence" else
                           "pass a confidence between 0 and 1")
    return number


def check_annotation(a: Annotation, where: str) -> tuple[int, int]:
    """Refuse what no schema may allow; returns ``(start_ns, end_ns)`` as ints."""
    if not isinstance(a, Annotation):
        raise InvalidInput(f"{where} is a {type(a).__name__}, not an Annotation",
                           "pass Annotation(type, start_ns, end_ns, ...) objects")
    start, end = _integer(a.start_ns, where, "start_ns"), _integer(a.end_ns, where, "end_ns")
    if start < 0:
        raise InvalidInput(f"{where}: start_ns {start} is negative",
                           "times count nanoseconds from the start of the asset, from 0")
    if end <= start:
        raise InvalidInput(f"{where}: end_ns {end} is not after start_ns {start}",
                           "pass end_ns > start_ns; ranges are half-open [start_ns, end_ns), "
                           "so one frame at 24 fps is [t, t + 41_666_667)")
    if end >= 2**63:
        raise InvalidInput(f"{where}: end_ns {end} does not fit in 64 bits",
                           "pass times in nanoseconds below 2**63")
    if a.confidence is not None:
        _unit(a.confidence, where, "confidence")
    if a.label is not None:
        check_name(f"{where}: the label", a.label, "dog")
    if a.region is not None:
        _check_region(a.region, where)
    if not isinstance(a.data, Mapping) or not all(isinstance(k, str) for k in a.data):
        raise InvalidInput(f"{where}: data must be a JSON object (a dict with string keys)",
                           "pass data as a dict, e.g. {'index': 3}")
    if a.vector is not None:
        if not 0 < len(a.vector) <= MAX_VECTOR_DIM:
            raise InvalidInput(f"{where}: an inline vector has {len(a.vector)} dimensions",
                               f"keep inline vectors to 1..{MAX_VECTOR_DIM} dimensions; store "
                               "bigger ones in the feature store and reference them")
        if not all(math.isfinite(v) for v in a.vector):
            raise InvalidInput(f"{where}: the vector holds NaN or infinity",
                               "pass finite numbers only")
    return start, end


def _check_region(region: Region, where: str) -> None:
    if not isinstance(region, Region):
        raise InvalidInput(f"{where}: region must be a Region, got {type(region).__name__}",
                           "pass Region.box(x0, y0, x1, y1) or Region.from_polygon(points)")
    x0, y0, x1, y1 = (_unit(v, where, n) for v, n in zip(
        region.bounds, ("x0", "y0", "x1", "y1"), strict=True))
    if not (x0 < x1 and y0 < y1):
        raise InvalidInput(f"{where}: the box ({x0}, {y0})-({x1}, {y1}) has no area",
                           "pass x0 < x1 and y0 < y1 (top-left, then bottom-right corner)")
    if region.polygon is not None:
        if len(region.polygon) < 3:
            raise InvalidInput(f"{where}: a polygon needs at least 3 points",
                               "build polygons with Region.from_polygon(points)")
        for x, y in region.polygon:
            _unit(x, where, "a polygon x")
            _unit(y, where, "a polygon y")
        xs, ys = [p[0] for p in region.polygon], [p[1] for p in region.polygon]
        if (min(xs), min(ys), max(xs), max(ys)) != region.bounds:
            raise InvalidInput(f"{where}: the polygon's bounding box is not the region's box",
                               "build polygons with Region.from_polygon(points)")


def dump_json(value: Mapping[str, Any], where: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{where}: data is not JSON ({exc})",
                           "pass only dicts, lists, strings, finite numbers, booleans and None"
                           ) from None
