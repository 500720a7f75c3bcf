"""Any interaction log and item table stored as CSV or Parquet with the standard columns.

    source = TableFiles("logs/events.parquet", "logs/items.csv", tags="logs/tags.csv")
    dataset = build_dataset(source)

Column names are those ``reelgraph.recsys.data.dataset`` lists; CSV files need a header row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from reelgraph.core import InvalidInput, NotFound

SUFFIXES = (".csv", ".parquet", ".pq")
# Ids are names, never numbers: "007" stays "007".
ID_COLUMNS = ("user", "item")


def existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise NotFound(f"the {what} file {path} does not exist",
                       "check the path (the dataset folder must hold it)")
    return path


def read_table(path: str | Path, what: str) -> pa.Table:
    """A CSV (header row) or Parquet file as an Arrow table, chosen by suffix."""
    path = existing(Path(path), what)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(f"the {what} file {path} is neither CSV nor Parquet",
                           f"give a file ending in one of {', '.join(SUFFIXES)}")
    try:
        if suffix == ".csv":
            types = {c: pa.string() for c in ID_COLUMNS}
            return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(
                column_types=types))
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"the {what} file {path} cannot be read: {exc}",
                           "check that it is a well-formed CSV (with a header) or Parquet "
                           "file") from None


@dataclass(frozen=True)
class TableFiles:
    """An ``InteractionSource`` over files: an interaction log, an item table, tags."""

    interactions_path: str | Path
    items_path: str | Path
    tags_path: str | Path | None = None
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or Path(self.interactions_path).stem

    def interactions(self) -> pa.Table:
        return read_table(self.interactions_path, "interactions")

    def items(self) -> pa.Table:
        return read_table(self.items_path, "items")

    def tags(self) -> pa.Table | None:
        return None if self.tags_path is None else read_table(self.tags_path, "tags")
