"""MovieLens 1M and 10M: ``::``-separated ``.dat`` files (ratings, movies, tags).

    ratings.dat  UserID::MovieID::Rating::Timestamp
    movies.dat   MovieID::Title::Genres        (genres joined with ``|``)
    tags.dat     UserID::MovieID::Tag::Timestamp   (10M only)

1M's titles are Latin-1; 10M's are UTF-8 where they are not ASCII, so a file is read as UTF-8
and, where that fails, as Latin-1 (which never fails). Ratings, millions of lines, go
through Arrow's CSV reader once ``::`` is made a tab; a title or tag may itself hold ``::``,
so those lines are split by hand around the fields that cannot.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from reelgraph.core import InvalidInput
from reelgraph.recsys.data.tables import existing

SEPARATOR = "::"
EVENT = "rating"
NO_GENRES = ("(no genres listed)", "unknown")


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _fields(path: Path, count: int, free: int) -> list[list[str]]:
    """Each non-empty line's ``count`` fields; field ``free`` takes any extra ``::``."""
    rows = []
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(SEPARATOR)
        if len(parts) < count:
            raise InvalidInput(f"line {number} of {path} has {len(parts)} '::'-separated "
                               f"fields, not {count}",
                               "give the .dat files of MovieLens 1M or 10M unchanged")
        tail = count - free - 1
        end = len(parts) - tail
        rows.append([*parts[:free], SEPARATOR.join(parts[free:end]), *parts[end:]])
    return rows


@dataclass(frozen=True)
class MovieLensDat:
    """ml-1m / ml-10m: ratings.dat, movies.dat and (optionally) tags.dat in one folder."""

    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    def interactions(self) -> pa.Table:
        path = existing(self.folder / "ratings.dat", "ratings.dat")
        data = path.read_bytes().replace(SEPARATOR.encode(), b"\t")
        options = pa_csv.ReadOptions(column_names=["user", "item", "value", "timestamp"])
        types = {"user": pa.string(), "item": pa.string(), "value": pa.float32(),
                 "timestamp": pa.int64()}
        try:
            table = pa_csv.read_csv(io.BytesIO(data), read_options=options,
                                    parse_options=pa_csv.ParseOptions(delimiter="\t",
                                                                      quote_char=False),
                                    convert_options=pa_csv.ConvertOptions(column_types=types))
        except pa.ArrowInvalid as exc:
            raise InvalidInput(f"{path} is not in the MovieLens .dat format: {exc}",
                               "give the ratings.dat of ml-1m or ml-10m "
                               "(UserID::MovieID::Rating::Timestamp per line)") from None
        return table.append_column("event", pa.repeat(EVENT, table.num_rows))

    def items(self) -> pa.Table:
        rows = _fields(existing(self.folder / "movies.dat", "movies.dat"), 3, 1)
        genres = [[g for g in row[2].split("|") if g and g not in NO_GENRES] for row in rows]
        return pa.table({"item": [r[0] for r in rows], "title": [r[1] for r in rows],
                         "categories": pa.array(genres, type=pa.list_(pa.string()))})

    def tags(self) -> pa.Table | None:
        path = self.folder / "tags.dat"
        if not path.exists():
            return None
        rows = _fields(path, 4, 2)
        try:
            times = [int(r[3]) for r in rows]
        except ValueError as exc:
            raise InvalidInput(f"{path} has a timestamp that is not a number: {exc}",
                               "give the tags.dat of ml-10m unchanged") from None
        return pa.table({"user": [r[0] for r in rows], "item": [r[1] for r in rows],
                         "tag": [r[2] for r in rows], "timestamp": times})
