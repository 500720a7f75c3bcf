"""MovieLens as interaction sources: ml-latest(-small) and ml-20m/25m/32m (the same CSVs),
ml-100k (the 1998 format) and ml-1m/ml-10m (``::``-separated, ``movielens_dat``).

Every rating is one ``rating`` event whose value is the rating. Genres are the categories
(ml-latest's ``(no genres listed)`` and ml-100k's ``unknown`` become none); ml-latest's
tags.csv is the tag log, with its times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from reelgraph.core import InvalidInput
from reelgraph.recsys.data.dataset import Dataset, build_dataset
from reelgraph.recsys.data.movielens_dat import MovieLensDat
from reelgraph.recsys.data.tables import existing, read_table

EVENT = "rating"
NO_GENRES = ("(no genres listed)", "unknown")


def _rename(table: pa.Table, names: dict[str, str]) -> pa.Table:
    return table.rename_columns([names.get(c, c) for c in table.column_names])


@dataclass(frozen=True)
class MovieLensLatest:
    """ml-latest(-small), ml-20m, ml-25m, ml-32m: ratings.csv, movies.csv and (optionally)
    tags.csv in one folder."""

    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    def _csv(self, file: str) -> pa.Table:
        return read_table(self.folder / file, file)

    def interactions(self) -> pa.Table:
        table = _rename(self._csv("ratings.csv"),
                        {"userId": "user", "movieId": "item", "rating": "value"})
        return table.append_column("event", pa.repeat(EVENT, table.num_rows))

    def items(self) -> pa.Table:
        table = _rename(self._csv("movies.csv"), {"movieId": "item", "genres": "categories"})
        genres = [[g for g in (row or "").split("|") if g and g not in NO_GENRES]
                  for row in table.column("categories").to_pylist()]
        return table.set_column(table.column_names.index("categories"), "categories",
                                pa.array(genres, type=pa.list_(pa.string())))

    def tags(self) -> pa.Table | None:
        if not (self.folder / "tags.csv").exists():
            return None
        return _rename(self._csv("tags.csv"), {"movieId": "item", "userId": "user"})


@dataclass(frozen=True)
class MovieLens100k:
    """ml-100k: u.data (tab-separated), u.item and u.genre (``|``-separated, Latin-1)."""

    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    def interactions(self) -> pa.Table:
        path = existing(self.folder / "u.data", "u.data")
        options = pa_csv.ReadOptions(column_names=["user", "item", "value", "timestamp"])
        types = {"user": pa.string(), "item": pa.string()}
        try:
            table = pa_csv.read_csv(path, read_options=options,
                                    parse_options=pa_csv.ParseOptions(delimiter="\t"),
                                    convert_options=pa_csv.ConvertOptions(column_types=types))
        except pa.ArrowInvalid as exc:
            raise InvalidInput(f"{path} is not in the ml-100k format: {exc}",
                               "give the u.data file of ml-100k (user, item, rating, "
                               "timestamp separated by tabs)") from None
        return table.append_column("event", pa.array([EVENT] * table.num_rows))

    def _genres(self) -> list[str]:
        path = existing(self.folder / "u.genre", "u.genre")
        rows = [line.split("|") for line in path.read_text(encoding="latin-1").splitlines()
                if line.strip()]
        return [name for name, _ in sorted(rows, key=lambda r: int(r[1]))]

    def items(self) -> pa.Table:
        path = existing(self.folder / "u.item", "u.item")
        genres = self._genres()
        ids, titles, categories = [], [], []
        for number, line in enumerate(path.read_text(encoding="latin-1").splitlines(), 1):
            if not line.strip():
                continue
            fields = line.split("|")
            if len(fields) != 5 + len(genres):
                raise InvalidInput(f"line {number} of {path} has {len(fields)} fields, not "
                                   f"{5 + len(genres)} (5 + one flag per genre in u.genre)",
                                   "give the u.item and u.genre files of the same ml-100k "
                                   "release")
            flags = np.array(fields[5:]) == "1"
            ids.append(fields[0])
            titles.append(fields[1])
            categories.append([g for g, on in zip(genres, flags, strict=True)
                               if on and g not in NO_GENRES])
        return pa.table({"item": ids, "title": titles,
                         "categories": pa.array(categories, type=pa.list_(pa.string()))})

    def tags(self) -> pa.Table | None:
        return None


def load_movielens(folder: str | Path) -> Dataset:
    """Any MovieLens release, told apart by the files in ``folder``: ratings.csv
    (ml-latest, 20M, 25M, 32M), ratings.dat (1M, 10M) or u.data (100K)."""
    path = Path(folder)
    if (path / "ratings.csv").exists():
        return build_dataset(MovieLensLatest(path))
    if (path / "ratings.dat").exists():
        return build_dataset(MovieLensDat(path))
    if (path / "u.data").exists():
        return build_dataset(MovieLens100k(path))
    raise InvalidInput(f"{path} holds no MovieLens files: ratings.csv and movies.csv "
                       "(ml-latest, 20M, 25M, 32M), ratings.dat and movies.dat (1M, 10M) or "
                       "u.data, u.item and u.genre (100K)",
                       "point at an unpacked MovieLens folder, or load other logs with "
                       "TableFiles")
