"""What a feature's values are, and how a value is checked before anything is stored.

- ``Scalar(dtype)``: one number, string or bool per entity (``float64``, ``int64``,
  ``string``, ``bool``);
- ``Vector(dim)``: a float32 vector of fixed dimension (an embedding); NaN and inf refused;
- ``TableValue()``: a small table per entity (a list of JSON objects).

Entity keys are strings; an entity type may declare keys as ints (e.g. MovieLens movieId),
which are checked and turned into their decimal strings at the boundary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from reelgraph.core import InvalidInput

SCALAR_TYPES = ("float64", "int64", "string", "bool")


class InvalidValue(InvalidInput):
    """A value of the wrong type or dimension, or NaN in a vector."""


@dataclass(frozen=True)
class Scalar:
    """A scalar feature value of one NumPy dtype."""
    dtype: str = "float64"

    def __post_init__(self) -> None:
        if self.dtype not in SCALAR_TYPES:
            raise InvalidInput(f"scalar type {self.dtype!r} is not supported",
                               f"use one of {SCALAR_TYPES}")

    @property
    def kind(self) -> str:
        return "scalar"

    def check(self, feature: str, key: str, value: Any) -> Any:
        ok = {
            "float64": isinstance(value, int | float | np.floating | np.integer)
            and not isinstance(value, bool),
            "int64": isinstance(value, int | np.integer) and not isinstance(value, bool),
            "string": isinstance(value, str),
            "bool": isinstance(value, bool | np.bool_),
        }[self.dtype]
        if not ok:
            raise InvalidValue(
                f"feature {feature!r} got {type(value).__name__} {value!r:.40} for entity "
                f"{key!r}, not a {self.dtype}",
                f"return a {self.dtype} for every entity",
            )
        if self.dtype == "float64":
            return float(value)
        if self.dtype == "int64":
            return int(value)
        return bool(value) if self.dtype == "bool" else value

    def describe(self) -> dict[str, Any]:
        return {"kind": "scalar", "dtype": self.dtype}


@dataclass(frozen=True)
class Vector:
    """A fixed-length float32 vector feature value."""
    dim: int

    def __post_init__(self) -> None:
        if not isinstance(self.dim, int) or self.dim <= 0:
            raise InvalidInput(f"vector dimension {self.dim!r} is not a positive integer",
                               "declare e.g. Vector(384)")

    @property
    def kind(self) -> str:
        return "vector"

    def check(self, feature: str, key: str, value: Any) -> np.ndarray:
        try:
            array = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError):
            raise InvalidValue(
                f"feature {feature!r} got {type(value).__name__} for entity {key!r}, "
                "not a vector", f"return a sequence of {self.dim} floats") from None
        if array.shape != (self.dim,):
            raise InvalidValue(
                f"feature {feature!r} got a vector of shape {array.shape} for entity {key!r}, "
                f"not ({self.dim},)", f"return exactly {self.dim} floats per entity")
        if not np.isfinite(array).all():
            raise InvalidValue(
                f"feature {feature!r} got NaN or infinity in the vector of entity {key!r}",
                "fix the computation (e.g. normalise only non-zero vectors)")
        return array

    def describe(self) -> dict[str, Any]:
        return {"kind": "vector", "dim": self.dim}


@dataclass(frozen=True)
class TableValue:
    """A small table per entity: a list of JSON objects (or a pyarrow Table)."""

    @property
    def kind(self) -> str:
        return "table"

    def check(self, feature: str, key: str, value: Any) -> list[dict[str, Any]]:
        rows = value.to_pylist() if hasattr(value, "to_pylist") else value
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InvalidValue(
                f"feature {feature!r} got {type(value).__name__} for entity {key!r}, "
                "not a table", "return a list of dicts (or a pyarrow Table) per entity")
        try:
            json.dumps(rows, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidValue(f"feature {feature!r}: the table of entity {key!r} is not "
                               f"plain JSON ({exc})", "use strings, numbers and booleans"
                               ) from None
        return rows

    def describe(self) -> dict[str, Any]:
        return {"kind": "table"}


ValueType = Scalar | Vector | TableValue


def value_type_from(description: dict[str, Any]) -> ValueType:
    kind = description.get("kind")
    if kind == "scalar":
        return Scalar(description.get("dtype", "float64"))
    if kind == "vector":
        return Vector(int(description["dim"]))
    if kind == "table":
        return TableValue()
    raise InvalidInput(f"unknown value kind {kind!r}", "use scalar, vector or table")


@dataclass(frozen=True)
class EntityType:
    """A kind of thing features describe: title, shot, user, video..."""

    name: str
    key_type: type = str  # str or int

    def key(self, value: Any) -> str:
        if self.key_type is int:
            if isinstance(value, bool) or not isinstance(value, int | np.integer | str):
                raise InvalidInput(f"entity {self.name!r} keys are integers, not "
                                   f"{type(value).__name__} {value!r:.40}",
                                   f"pass {self.name} ids as ints")
            try:
                return str(int(value))
            except ValueError:
                raise InvalidInput(f"entity {self.name!r} keys are integers, not {value!r:.40}",
                                   f"pass {self.name} ids as ints") from None
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"entity {self.name!r} keys are non-empty strings, not "
                               f"{type(value).__name__} {value!r:.40}",
                               f"pass {self.name} keys as strings")
        return value
