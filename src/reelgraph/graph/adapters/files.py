"""``FileDatasetSource``: every CSV or Parquet file under a directory is a dataset node.

The entity id is the file's path relative to the root (``ratings.csv``); the node is
``rg://dataset/NAMESPACE/RELATIVE/PATH``. Its properties hold the schema (column names and
types: inferred from a sample of rows for CSV, read from the footer for Parquet), the row
count, the size in bytes and the SHA-256 of the bytes, so an unchanged file is a no-op and a
changed one a new revision.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

from reelgraph.core import InvalidInput
from reelgraph.graph.adapters.base import EntityState
from reelgraph.graph.model import Json
from reelgraph.graph.uri import NodeKey

FORMATS = {".csv": "csv", ".parquet": "parquet"}
SAMPLE_ROWS = 1000  # rows read to infer CSV column types
_CHUNK = 1 << 20


class FileDatasetSource:
    def __init__(self, root: str | Path, namespace: str, owner: str = "",
                 source: str | None = None) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise InvalidInput(
                f"the dataset directory {self.root} does not exist",
                "pass the directory that holds the CSV or Parquet files",
            )
        NodeKey("dataset", namespace, "probe")  # validates the namespace up front
        self.namespace = namespace
        self.owner = owner
        self._source = source or f"files:{namespace}"

    @property
    def source(self) -> str:
        return self._source

    def key(self, entity_id: str) -> NodeKey:
        return NodeKey("dataset", self.namespace, entity_id)

    def list_ids(self) -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and path.suffix.lower() in FORMATS:
                yield path.relative_to(self.root).as_posix()

    def fetch(self, entity_id: str) -> EntityState | None:
        path = (self.root / entity_id).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidInput(
                f"the entity id {entity_id!r} points outside {self.root}",
                "use a path relative to the dataset directory",
            )
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None or not path.is_file():
            return None
        schema, rows = _csv_facts(path) if fmt == "csv" else _parquet_facts(path)
        properties: Json = {
            "path": entity_id,
            "format": fmt,
            "schema": schema,
            "rows": rows,
            "bytes": path.stat().st_size,
            "sha256": _sha256(path),
        }
        return EntityState(
            owner=self.owner,
            description=f"{fmt.upper()} file {entity_id} ({rows} rows, {len(schema)} columns)",
            tags=("file", fmt),
            properties=properties,
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _value_type(value: str) -> str:
    for kind, parse in (("integer", int), ("float", float)):
        try:
            parse(value)
        except ValueError:
            continue
        return kind
    return "string"


_WIDER = {"integer": 0, "float": 1, "string": 2}


def _csv_facts(path: Path) -> tuple[list[Json], int]:
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        types: list[str | None] = [None] * len(header)
        rows = 0
        for row in reader:
            if rows < SAMPLE_ROWS:
                for i, value in enumerate(row[: len(header)]):
                    if value == "":
                        continue  # empty cells say nothing about the type
                    seen = _value_type(value)
                    current = types[i]
                    if current is None or _WIDER[seen] > _WIDER[current]:
                        types[i] = seen
            rows += 1
    schema: list[Json] = [
        {"name": name, "type": kind or "string"} for name, kind in zip(header, types, strict=True)
    ]
    return schema, rows


def _parquet_facts(path: Path) -> tuple[list[Json], int]:
    import pyarrow.parquet as pq  # deferred: Parquet only

    meta = pq.ParquetFile(path)
    schema: list[Json] = [
        {"name": field.name, "type": str(field.type)} for field in meta.schema_arrow
    ]
    return schema, meta.metadata.num_rows
