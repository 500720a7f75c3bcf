"""How one value is stored in an online store, and read back as the same Python value.

Scalars are stored as themselves (float, int, str; bools as 0/1) so SQLite keeps them in
its native types; non-finite floats as their ``repr`` (SQLite would turn NaN into NULL).
Vectors are their float32 bytes; tables are compact JSON. Redis hands everything back as
bytes, so ``decode`` accepts either form. The value type (``FeatureRef.value``) says how to
decode: the stored form alone cannot tell a string from a table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from reelgraph.features.ports import FeatureRef
from reelgraph.features.values import (
    InvalidValue,
    TableValue,
    ValueType,
    Vector,
    value_type_from,
)

Stored = float | int | str | bytes

_INT64 = (-(1 << 63), (1 << 63) - 1)


def encode(feature: FeatureRef, value_type: ValueType, key: str, value: Any) -> Stored:
    """Check ``value`` against the feature's type and turn it into its stored form."""
    checked: Any = value_type.check(feature.uri, key, value)
    if isinstance(value_type, Vector):
        return bytes(np.ascontiguousarray(checked, dtype="<f4").tobytes())
    if isinstance(value_type, TableValue):
        return json.dumps(checked, separators=(",", ":"), allow_nan=False)
    if value_type.dtype == "bool":
        return int(checked)
    if value_type.dtype == "int64" and not _INT64[0] <= checked <= _INT64[1]:
        raise InvalidValue(f"feature {feature.uri!r}: {checked} for entity {key!r} does not "
                           "fit in 64 bits", "return values between -2**63 and 2**63-1")
    if value_type.dtype == "float64" and not math.isfinite(checked):
        return repr(checked)
    return checked  # type: ignore[no-any-return]


def decode(value_type: ValueType, stored: Stored) -> Any:
    """The Python value ``encode`` was given (vectors as writable float32 arrays)."""
    return decoder(value_type)(stored)


def decoder(value_type: ValueType) -> Callable[[Stored], Any]:
    """``decode`` for one value type, chosen once: batch reads call it per value."""
    if isinstance(value_type, Vector):
        return _vector
    if isinstance(value_type, TableValue):
        return lambda stored: json.loads(_text(stored))
    return _SCALARS[value_type.dtype]


def many_decoder(value_type: ValueType) -> Callable[[list[Stored]], list[Any]]:
    """``decode`` of many stored values of one type at once: vectors become rows of one
    fresh matrix (one copy, not one per value)."""
    if isinstance(value_type, Vector):
        dim = value_type.dim

        def vectors(stored: list[Stored]) -> list[Any]:
            if not all(isinstance(v, bytes) and len(v) == 4 * dim for v in stored):
                return [_vector(v) for v in stored]  # raises on the bad one
            joined = b"".join(stored)  # type: ignore[arg-type]
            return list(np.frombuffer(joined, dtype="<f4").reshape(-1, dim).copy())

        return vectors
    one = decoder(value_type)
    return lambda stored: [one(v) for v in stored]


def _vector(stored: Stored) -> np.ndarray:
    if not isinstance(stored, bytes):
        raise InvalidValue(f"a stored vector is {type(stored).__name__}, not bytes",
                           "rewrite the feature's values (reelgraph features sync)")
    return np.frombuffer(stored, dtype="<f4").copy()  # writable, like the value written


def _text(stored: Stored) -> Any:
    return stored.decode() if isinstance(stored, bytes) else stored


def _float(stored: Stored) -> float:
    return stored if type(stored) is float else float(_text(stored))


def _int(stored: Stored) -> int:
    return stored if type(stored) is int else int(_text(stored))


_SCALARS: dict[str, Callable[[Stored], Any]] = {
    "float64": _float,
    "int64": _int,
    "bool": lambda stored: bool(int(_text(stored))),
    "string": lambda stored: str(_text(stored)),
}


def value_type_of(feature: FeatureRef) -> ValueType:
    return value_type_from(feature.value)

