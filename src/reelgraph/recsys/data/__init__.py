"""Interaction logs and item catalogs, from MovieLens or any CSV/Parquet files."""

from reelgraph.recsys.data.dataset import (
    Catalog,
    Dataset,
    Interactions,
    InteractionSource,
    build_dataset,
)
from reelgraph.recsys.data.movielens import MovieLens100k, MovieLensLatest, load_movielens
from reelgraph.recsys.data.movielens_dat import MovieLensDat
from reelgraph.recsys.data.tables import TableFiles

__all__ = [
    "Catalog",
    "Dataset",
    "InteractionSource",
    "Interactions",
    "MovieLens100k",
    "MovieLensDat",
    "MovieLensLatest",
    "TableFiles",
    "build_dataset",
    "load_movielens",
]
