"""Annotation types and their versioned JSON Schemas.

A type (``label``) has one or more schema versions (1, 2, ...); a write is checked against the
version it names, or the type's newest, and the row keeps the version it passed. A schema
describes the annotation as a JSON document::

    {"start_ns": 0, "end_ns": 41666667, "region": {"box": [x0, y0, x1, y1],
     "polygon": [[x, y], ...]}, "label": "dog", "confidence": 0.9, "data": {...},
     "vector_dim": 512}

with absent fields left out (the vector itself is checked in Python: finite, at most
``MAX_VECTOR_DIM`` numbers). What every type must satisfy (``end_ns > start_ns >= 0``,
confidence and coordinates in ``[0, 1]``, boxes with area) is checked before the schema, in
``model.check_annotation``. Schemas are code, not rows: a registered version never changes
(registering different content under it is refused), so rows written under it stay valid.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

import jsonschema_rs

from reelgraph.core import Conflict, InvalidInput
from reelgraph.media.annotations.model import Annotation

_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")

_TIMES = {"start_ns": {"type": "integer", "minimum": 0}, "end_ns": {"type": "integer"}}
_REGION = {
    "type": "object",
    "properties": {
        "box": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1},
                "minItems": 4, "maxItems": 4},
        "polygon": {"type": "array", "minItems": 3,
                    "items": {"type": "array", "items": {"type": "number"},
                              "minItems": 2, "maxItems": 2}},
    },
    "required": ["box"],
    "additionalProperties": False,
}
_LABEL = {"type": "string", "minLength": 1}
_CONFIDENCE = {"type": "number", "minimum": 0, "maximum": 1}


def _object(fields: Mapping[str, Any], needs: tuple[str, ...] = (), **data: Any) -> dict[str, Any]:
    """A schema for the annotation document: the fields it may have besides the times, the
    required ones, and (keywords) the schema of its ``data`` object, which allows only the
    properties named unless ``additionalProperties`` says otherwise."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {**_TIMES, **fields,
                       "data": {"type": "object", "additionalProperties": False, **data}},
        "required": ["start_ns", "end_ns", *needs],
        "additionalProperties": False,
    }


BUILTIN: dict[str, dict[int, dict[str, Any]]] = {
    # A shot: one continuous camera take, from a shot detector.
    "shot": {1: _object({}, properties={
        "index": {"type": "integer", "minimum": 0},  # its position in the asset
        "score": {"type": "number"},  # the detector's cut score
        "method": {"type": "string"},
    })},
    # A scene: consecutive shots in one place and time; ``label`` may name it.
    "scene": {1: _object({"label": _LABEL}, properties={
        "index": {"type": "integer", "minimum": 0},
        "shots": {"type": "array", "items": {"type": "integer", "minimum": 0}},
    })},
    # A classifier's label for a time range (and, optionally, a region).
    "label": {1: _object({"region": _REGION, "label": _LABEL, "confidence": _CONFIDENCE},
                         ("label", "confidence"), properties={
                             "taxonomy": {"type": "string"},
                         })},
    # A detector's labelled box: region, label and confidence are all required.
    "detection": {1: _object({"region": _REGION, "label": _LABEL, "confidence": _CONFIDENCE},
                             ("region", "label", "confidence"), properties={
                                 "track_id": {"type": ["integer", "string"]},
                                 "taxonomy": {"type": "string"},
                             })},
    # Where this range's embedding lives: a feature version and the entity key in it; an
    # optional small vector may be kept inline (brute-force neighbours without an index).
    "embedding": {1: _object({"region": _REGION, "vector_dim": {"type": "integer"}}, (),
                             properties={
                                 "feature": {"type": "string", "pattern": "^rg://[a-z_]+/"},
                                 "key": {"type": "string", "minLength": 1},
                             }, required=["feature", "key"])},
    # Anything else, as free-form JSON in ``data``.
    "json": {1: _object({"region": _REGION, "label": _LABEL, "confidence": _CONFIDENCE},
                        additionalProperties=True)},
}


def document(a: Annotation, start_ns: int, end_ns: int, data: dict[str, Any]
             ) -> dict[str, Any]:
    """The JSON document a schema checks (see the module docstring): the times as
    ``check_annotation`` returned them and ``data`` as it will be stored (read back from its
    JSON), so numpy numbers and tuples are checked as the numbers and arrays they become."""
    doc: dict[str, Any] = {"start_ns": start_ns, "end_ns": end_ns, "data": data}
    if a.region is not None:
        doc["region"] = a.region.to_dict()
    if a.label is not None:
        doc["label"] = a.label
    if a.confidence is not None:
        doc["confidence"] = float(a.confidence)
    if a.vector is not None:
        doc["vector_dim"] = len(a.vector)
    return doc


class SchemaRegistry:
    """Annotation types by name, each with its schema versions."""

    def __init__(self, schemas: Mapping[str, Mapping[int, Mapping[str, Any]]] | None = None
                 ) -> None:
        self._schemas: dict[str, dict[int, dict[str, Any]]] = {}
        # Compiled once per version: ~1-2 µs a document, so bulk writes need no memo.
        self._validators: dict[tuple[str, int], jsonschema_rs.Validator] = {}
        for name, versions in (BUILTIN if schemas is None else schemas).items():
            for version, schema in versions.items():
                self.register(name, version, schema)

    def register(self, type: str, version: int, schema: Mapping[str, Any]) -> None:
        """Add a type or a new schema version of one; registering the same content again is
        a no-op, different content under a registered version is refused."""
        if not isinstance(type, str) or not _TYPE_NAME.match(type):
            raise InvalidInput(f"annotation type name {type!r} is not valid",
                               "use lowercase letters, digits, '_', '.', '-', starting with a "
                               "letter (e.g. 'ocr' or 'face.landmarks')")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidInput(f"schema version {version!r} of {type!r} is not valid",
                               "number schema versions 1, 2, 3, ...")
        content = copy.deepcopy(dict(schema))
        known = self._schemas.get(type, {}).get(version)
        if known is not None:
            if known != content:
                raise Conflict(f"annotation type {type!r} already has a different schema "
                               f"version {version}",
                               f"register the change as version {self.latest(type) + 1}")
            return
        try:
            jsonschema_rs.meta.validate(content)
            validator = jsonschema_rs.Draft202012Validator(content)
        except (jsonschema_rs.ValidationError, ValueError) as exc:
            problem = exc.message if isinstance(exc, jsonschema_rs.ValidationError) else exc
            raise InvalidInput(f"the schema of {type!r} v{version} is not a valid JSON Schema "
                               f"({problem})", "fix the schema (JSON Schema 2020-12)"
                               ) from None
        self._schemas.setdefault(type, {})[version] = content
        self._validators[(type, version)] = validator

    def types(self) -> list[str]:
        return sorted(self._schemas)

    def versions(self, type: str) -> list[int]:
        return sorted(self._known(type))

    def latest(self, type: str) -> int:
        return max(self._known(type))

    def schema(self, type: str, version: int | None = None) -> dict[str, Any]:
        """A copy of the schema (the newest version when ``version`` is None)."""
        return copy.deepcopy(self._known(type)[self._version(type, version)])

    def validate(self, a: Annotation, start_ns: int, end_ns: int, data: dict[str, Any],
                 where: str) -> int:
        """Check ``a`` against its type's schema, given what ``check_annotation`` returned
        and its data as stored; returns the schema version it passed."""
        version = self._version(a.type, a.schema_version, where)
        doc = document(a, start_ns, end_ns, data)
        try:
            self._validators[(a.type, version)].validate(doc)
        except jsonschema_rs.ValidationError as error:
            at = "/".join(str(p) for p in error.instance_path) or "the annotation"
            raise InvalidInput(
                f"{where} does not match the {a.type!r} schema v{version}: {error.message} "
                f"(at {at})",
                f"make it match the schema; see SchemaRegistry.schema({a.type!r}, {version})"
            ) from None
        return version

    def _known(self, type: str, where: str = "") -> dict[int, dict[str, Any]]:
        known = self._schemas.get(type)
        if known is None:
            prefix = f"{where}: " if where else ""
            raise InvalidInput(f"{prefix}unknown annotation type {type!r}",
                               f"use one of {self.types()}, or register the type first "
                               "(AnnotationStore.schemas.register(name, 1, json_schema))")
        return known

    def _version(self, type: str, version: int | None, where: str = "") -> int:
        known = self._known(type, where)
        if version is None:
            return max(known)
        if version not in known:
            prefix = f"{where}: " if where else ""
            raise InvalidInput(f"{prefix}annotation type {type!r} has no schema version "
                               f"{version!r}", f"use one of {sorted(known)}, or leave "
                               "schema_version out for the newest")
        return version
