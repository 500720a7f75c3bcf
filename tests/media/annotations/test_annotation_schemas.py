"""Annotation types, their schema versions, and the time bins behind window queries."""

from __future__ import annotations

import random

import numpy as np
import pytest

from reelgraph.core.errors import Conflict, InvalidInput
from reelgraph.media.annotations import Annotation, Region, SchemaRegistry
from reelgraph.media.annotations.model import check_annotation
from reelgraph.media.annotations.timebins import SHIFTS, TOP, bin_of, bin_ranges


def validate(registry: SchemaRegistry, a: Annotation) -> int:
    start, end = check_annotation(a, "annotation #0")
    return registry.validate(a, start, end, dict(a.data), "annotation #0")


def test_builtin_types_and_their_schemas() -> None:
    registry = SchemaRegistry()
    assert registry.types() == ["detection", "embedding", "json", "label", "scene", "shot"]
    assert all(registry.versions(t) == [1] for t in registry.types())
    schema = registry.schema("detection")
    assert set(schema["required"]) == {"start_ns", "end_ns", "region", "label", "confidence"}
    schema["required"].clear()  # a copy: the registry's own is untouched
    assert registry.schema("detection", 1)["required"]
    with pytest.raises(InvalidInput, match=r"unknown annotation type 'shots'.*Fix: use one of"):
        registry.schema("shots")


def test_valid_documents_never_make_the_schema_accept_an_invalid_one() -> None:
    registry = SchemaRegistry()
    for index in range(5):  # valid shots first: no verdict is remembered
        validate(registry, Annotation("shot", index, index + 1, data={"index": index}))
    for bad in ({"index": -1}, {"index": "3"}, {"index": 1.5}, {"index": 1, "extra": True}):
        with pytest.raises(InvalidInput, match="does not match the 'shot' schema v1"):
            validate(registry, Annotation("shot", 0, 1, data=bad))
    # Fields the universal checks cover may vary freely; the verdict stays the schema's.
    box = Region.box(0.1, 0.2, 0.3, 0.4)
    for confidence in (0.0, 0.5, 1.0):
        assert validate(registry, Annotation("detection", 0, 9, region=box, label="x",
                                             confidence=confidence)) == 1
    with pytest.raises(InvalidInput, match='"region" is a required property'):
        validate(registry, Annotation("detection", 0, 9, label="x", confidence=0.5))
    with pytest.raises(InvalidInput, match="'label' was unexpected"):
        validate(registry, Annotation("shot", 0, 1, label="x"))


def test_numpy_values_and_tuples_are_checked_as_what_is_stored() -> None:
    registry = SchemaRegistry()
    a = Annotation("scene", np.int64(0), np.int64(10), data={"shots": [0, 1]})  # type: ignore[arg-type]
    assert validate(registry, a) == 1
    with pytest.raises(InvalidInput, match="must be an integer"):
        check_annotation(Annotation("shot", np.float64(0), 10), "annotation #0")  # type: ignore[arg-type]
    assert Annotation("embedding", 0, 1, vector=np.ones(3)).vector == (1.0, 1.0, 1.0)  # type: ignore[arg-type]


def test_registering_schemas() -> None:
    registry = SchemaRegistry({})
    assert registry.types() == []
    schema = {"type": "object", "properties": {"data": {"required": ["text"]}}}
    registry.register("ocr", 1, schema)
    assert registry.latest("ocr") == 1
    with pytest.raises(Conflict):
        registry.register("ocr", 1, {"type": "object"})
    for name, version, bad, problem in [
            ("OCR", 2, schema, "type name 'OCR' is not valid"),
            ("ocr", 0, schema, "schema version 0"),
            ("ocr", 2, {"type": "objekt"}, "not a valid JSON Schema")]:
        with pytest.raises(InvalidInput, match=problem):
            registry.register(name, version, bad)  # type: ignore[arg-type]
    # A schema with logic across fields.
    registry.register("span", 1, {"type": "object", "if": {"required": ["label"]},
                                  "then": {"required": ["confidence"]}})
    validate(registry, Annotation("span", 0, 1))
    with pytest.raises(InvalidInput, match='"confidence" is a required property'):
        validate(registry, Annotation("span", 0, 1, label="x"))


def test_each_interval_lies_in_its_bin_and_windows_find_it() -> None:
    rng = random.Random(11)
    for _ in range(5000):
        start = rng.randrange(0, 2**rng.randrange(1, 62))
        end = start + 1 + rng.randrange(0, 2**rng.randrange(0, 52))
        b = bin_of(start, end)
        level, index = b >> 40, b & (2**40 - 1)
        if level < TOP:
            shift = SHIFTS[level]
            assert index << shift <= start and end <= (index + 1) << shift
            if level > 0:  # the smallest such bin
                assert start >> SHIFTS[level - 1] != (end - 1) >> SHIFTS[level - 1]
        w_start = max(0, start + rng.randrange(-2**40, 2**40))
        w_end = w_start + 1 + rng.randrange(0, 2**rng.randrange(0, 45))
        if start < w_end and end > w_start:
            assert any(low <= b <= high for low, high in bin_ranges(w_start, w_end))


def test_regions() -> None:
    triangle = Region.from_polygon([(0.2, 0.1), (0.6, 0.3), (0.4, 0.7)])
    assert triangle.bounds == (0.2, 0.1, 0.6, 0.7) and triangle.polygon is not None
    assert triangle.intersects(Region.box(0.6, 0.7, 0.9, 0.9))  # corners touch
    assert not triangle.intersects(Region.box(0.61, 0.0, 0.9, 0.9))
    with pytest.raises(InvalidInput, match="at least 3 points"):
        Region.from_polygon([(0.1, 0.1), (0.2, 0.2)])
    with pytest.raises(InvalidInput, match=r"\(x, y\) pairs"):
        Region.from_polygon([("a", 0.1), (0.2, 0.2), (0.3, 0.3)])  # type: ignore[list-item]
