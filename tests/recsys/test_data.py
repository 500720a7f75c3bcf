"""Loading interaction logs and catalogs: MovieLens in both formats, any CSV/Parquet files,
and errors that name the problem and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from recsys_samples import ML_LATEST

from reelgraph.core.errors import InvalidInput, NotFound
from reelgraph.recsys.data import Dataset, MovieLens100k, TableFiles, build_dataset, load_movielens


def test_ml_latest_small_loads_whole() -> None:
    data = load_movielens(ML_LATEST)
    assert (len(data.interactions), data.n_users, data.n_items) == (100_836, 610, 9_742)
    assert data.interactions.event_names == ("rating",)
    assert data.interactions.value.max() == 5.0
    toy_story = data.item_ids.index("1")
    assert data.catalog.titles[toy_story] == "Toy Story (1995)"
    genres = {data.catalog.category_names[c] for c in data.catalog.categories.row(toy_story)}
    assert genres == {"Adventure", "Animation", "Children", "Comedy", "Fantasy"}
    assert "(no genres listed)" not in data.catalog.category_names
    assert len(data.catalog.tag_names) > 1000 and data.catalog.tag_time.min() > 0
    assert data.interactions.item.dtype == np.int32 and data.interactions.time.dtype == np.int64


def test_tags_are_point_in_time(small: Dataset) -> None:
    catalog = small.catalog
    middle = int(np.median(catalog.tag_time))
    early, late = catalog.tags_before(middle), catalog.tags_before(2**62)
    assert len(early.values) < len(late.values)
    assert len(catalog.tags_before(0).values) == 0


def test_ml_100k_loads_whole(shared_data: Path) -> None:
    data = load_movielens(shared_data / "movielens" / "ml-100k")
    assert (len(data.interactions), data.n_users, data.n_items) == (100_000, 943, 1_682)
    assert "unknown" not in data.catalog.category_names
    assert len(data.catalog.category_names) == 18 and data.catalog.tag_names == ()
    assert data.catalog.titles[data.item_ids.index("1")] == "Toy Story (1995)"


def _write(folder: Path, log: pa.Table, items: pa.Table, fmt: str) -> TableFiles:
    folder.mkdir(exist_ok=True)
    paths = [folder / f"interactions.{fmt}", folder / f"items.{fmt}"]
    for table, path in zip((log, items), paths, strict=True):
        if fmt == "parquet":
            pq.write_table(table, path)
        else:
            pa_csv.write_csv(table, path)
    return TableFiles(*paths)  # type: ignore[arg-type]


LOG = pa.table({"user": ["u2", "u1", "u1"], "item": ["007", "a", "007"],
                "timestamp": [30, 10, 20], "event": ["play", "play", "click"],
                "value": [1.0, None, 2.5]})
ITEMS = pa.table({"item": ["a", "007"], "title": ["Alpha (1999)", "Bond"],
                  "categories": ["Drama|Action", ""], "tags": ["cult", "spy|classic"]})


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_any_table_with_the_standard_columns(tmp_path: Path, fmt: str) -> None:
    data = build_dataset(_write(tmp_path / fmt, LOG, ITEMS, fmt))
    assert data.item_ids == ("a", "007")  # ids stay strings: "007" is not 7
    assert data.user_ids == ("u1", "u2")
    assert data.interactions.item.tolist() == [1, 0, 1]
    assert data.interactions.event_names == ("click", "play")
    assert np.isnan(data.interactions.value[1]) and data.interactions.value[2] == 2.5
    assert data.catalog.category_names == ("Action", "Drama")
    assert len(data.catalog.categories.row(1)) == 0
    tags = data.catalog.tags_before(1)
    assert {data.catalog.tag_names[t] for t in tags.row(1)} == {"spy", "classic"}


def test_arrow_timestamps_become_unix_seconds() -> None:
    log = LOG.set_column(2, "timestamp", pa.array(
        np.array([30, 10, 20], dtype="datetime64[s]")))
    data = build_dataset(_Memory(log, ITEMS))
    assert data.interactions.time.tolist() == [30, 10, 20]


class _Memory:
    name = "memory"

    def __init__(self, log: pa.Table, items: pa.Table, tags: pa.Table | None = None) -> None:
        self.log, self.table, self.tag_table = log, items, tags

    def interactions(self) -> pa.Table:
        return self.log

    def items(self) -> pa.Table:
        return self.table

    def tags(self) -> pa.Table | None:
        return self.tag_table


@pytest.mark.parametrize(("log", "items", "words"), [
    (LOG.drop_columns(["timestamp"]), ITEMS, ["timestamp", "found: user, item"]),
    (LOG, ITEMS.drop_columns(["title"]), ["title"]),
    (LOG.set_column(0, "user", pa.array(["u1", None, "u2"])), ITEMS, ["empty", "'user'"]),
    (LOG.set_column(1, "item", pa.array(["a", "zz", "a"])), ITEMS, ["missing from the item",
                                                                      "zz"]),
    (LOG, pa.concat_tables([ITEMS, ITEMS]), ["more than once"]),
    (LOG.slice(0, 0), ITEMS, ["empty"]),
    (LOG.set_column(2, "timestamp", pa.array(["x", "y", "z"])), ITEMS, ["unix seconds"]),
])
def test_bad_tables_name_the_problem_and_the_fix(log: pa.Table, items: pa.Table,
                                                 words: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_dataset(_Memory(log, items))
    for word in words:
        assert word in caught.value.problem
    assert caught.value.fix


def test_tags_of_unknown_items_are_refused() -> None:
    tags = pa.table({"item": ["nope"], "tag": ["x"]})
    with pytest.raises(InvalidInput, match="tagged item"):
        build_dataset(_Memory(LOG, ITEMS, tags))


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        build_dataset(TableFiles(tmp_path / "none.csv", tmp_path / "items.csv"))
    with pytest.raises(NotFound, match=r"u\.data"):
        build_dataset(MovieLens100k(tmp_path))
    (tmp_path / "log.json").write_text("{}")
    with pytest.raises(InvalidInput, match="neither CSV nor Parquet"):
        build_dataset(TableFiles(tmp_path / "log.json", tmp_path / "log.json"))
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(InvalidInput, match="cannot be read"):
        build_dataset(TableFiles(tmp_path / "bad.parquet", tmp_path / "bad.parquet"))
    with pytest.raises(InvalidInput, match="holds no MovieLens files"):
        load_movielens(tmp_path)


def test_ml_100k_with_a_mismatched_genre_file(tmp_path: Path, shared_data: Path) -> None:
    source = shared_data / "movielens" / "ml-100k"
    for name in ("u.data", "u.item"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    (tmp_path / "u.genre").write_text("Action|0\nDrama|1\n")
    with pytest.raises(InvalidInput, match="fields"):
        load_movielens(tmp_path)
