"""Small real data for the recommender's tests: a slice of the bundled ml-latest-small.

The slice keeps the first users (all their ratings and tags) and only the items they
rated, so models train in seconds; ml-100k is read whole from the shared data folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from reelgraph.recsys.data import Dataset, MovieLensLatest, build_dataset
from reelgraph.recsys.experiment import ExperimentConfig
from reelgraph.recsys.hyperparameters import TrainConfig
from reelgraph.recsys.tasks import TaskConfig

ML_LATEST = Path(__file__).resolve().parents[2] / "examples" / "data" / "ml-latest-small"
USERS = 60


@dataclass(frozen=True)
class Slice:
    """ml-latest-small cut to the users with ids up to ``USERS``."""

    full: MovieLensLatest

    @property
    def name(self) -> str:
        return "ml-latest-small-slice"

    def interactions(self) -> pa.Table:
        table = self.full.interactions()
        return table.filter(pc.less_equal(pc.cast(table["user"], pa.int64()), USERS))

    def items(self) -> pa.Table:
        rated = pc.unique(self.interactions()["item"])
        table = self.full.items()
        return table.filter(pc.is_in(table["item"], value_set=rated))

    def tags(self) -> pa.Table | None:
        tags = self.full.tags()
        assert tags is not None
        return tags.filter(pc.is_in(tags["item"], value_set=self.items()["item"]))


SMALL_CONFIG = ExperimentConfig(
    dim=16, buckets=1 << 12, history=20,
    train=TrainConfig(epochs=2, negatives=512, calibrate=True),
    tasks=TaskConfig(max_train=1500, max_eval=150, catalog_queries=1))


def small_dataset() -> Dataset:
    return build_dataset(Slice(MovieLensLatest(ML_LATEST)))


def write_slice(folder: Path) -> Path:
    """The slice as ml-latest CSV files (ratings, movies, tags) in ``folder``."""
    import pyarrow.csv as pa_csv

    folder.mkdir(parents=True, exist_ok=True)
    ratings = pa_csv.read_csv(ML_LATEST / "ratings.csv")
    ratings = ratings.filter(pc.less_equal(ratings["userId"], USERS))
    rated = pc.unique(ratings["movieId"])
    for name, table in (("ratings.csv", ratings),
                        ("movies.csv", pa_csv.read_csv(ML_LATEST / "movies.csv")),
                        ("tags.csv", pa_csv.read_csv(ML_LATEST / "tags.csv"))):
        if name != "ratings.csv":
            table = table.filter(pc.is_in(table["movieId"], value_set=rated))
        pa_csv.write_csv(table, folder / name)
    return folder
