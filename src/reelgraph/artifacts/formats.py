"""How values become bytes and back: first-class formats, pickle for the rest.

- ``table``: a pyarrow Table or pandas DataFrame, as Parquet;
- ``array``: a NumPy array, as .npy without pickle;
- ``torch``: a PyTorch tensor or state dict (a dict of tensors), with ``torch.save``;
- ``json``: str, int, float, bool, None and plain lists/dicts of those;
- ``pickle``: anything else that pickles.

Heavy libraries are imported only when a value of theirs is stored or loaded.
"""

from __future__ import annotations

import io
import json
import math
import pickle
import sys
from typing import Any

FORMATS = ("table", "array", "torch", "json", "pickle")


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def _is_torch(value: Any) -> bool:
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    if isinstance(value, torch.Tensor):
        return True
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(v, torch.Tensor) for v in value.values())
    )


def format_of(value: Any) -> str:
    module = type(value).__module__.split(".")[0]
    if module == "pyarrow" and type(value).__name__ == "Table":
        return "table"
    if module == "pandas" and type(value).__name__ == "DataFrame":
        return "table"
    if module == "numpy" and type(value).__name__ == "ndarray" and value.dtype != object:
        return "array"
    if _is_torch(value):
        return "torch"
    if _is_json(value):
        return "json"
    return "pickle"


def dumps(value: Any, fmt: str) -> bytes:
    """Serialise; raises whatever the format's library raises for a value it cannot take."""
    buffer = io.BytesIO()
    if fmt == "table":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = value if isinstance(value, pa.Table) else pa.Table.from_pandas(value)
        pq.write_table(table, buffer)
    elif fmt == "array":
        import numpy as np

        np.save(buffer, value, allow_pickle=False)
    elif fmt == "torch":
        import torch

        torch.save(value, buffer)
    elif fmt == "json":
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    elif fmt == "pickle":
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return buffer.getvalue()


def loads(data: bytes, fmt: str) -> Any:
    if fmt == "table":
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(data))
    if fmt == "array":
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)
    if fmt == "torch":
        import torch

        return torch.load(io.BytesIO(data), weights_only=True)
    if fmt == "json":
        return json.loads(data)
    if fmt == "pickle":
        return pickle.loads(data)
    raise ValueError(f"unknown format {fmt!r}")
