"""Every MovieLens release people have: 1M/10M ``.dat`` files (Latin-1 or UTF-8 titles,
``::`` separators) and 20M/25M/32M CSVs, on small files written in those formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelgraph.core.errors import InvalidInput, NotFound
from reelgraph.recsys.data import MovieLensDat, build_dataset, load_movielens

MOVIES_1M = ("1::Toy Story (1995)::Animation|Children's|Comedy\n"
             "2::Cité des enfants perdus, La (1995)::Adventure|Sci-Fi\n"
             "3::Mission: Impossible::2 (1996)::Action\n")
RATINGS = "1::1::5::978300760\n1::2::3::978302109\n2::1::4::978301968\n2::3::2.5::978300275\n"


def _write_dat(folder: Path, encoding: str, tags: str | None = None) -> Path:
    folder.mkdir()
    (folder / "movies.dat").write_bytes(MOVIES_1M.encode(encoding))
    (folder / "ratings.dat").write_text(RATINGS)
    (folder / "users.dat").write_text("1::F::1::10::48067\n")  # ignored
    if tags is not None:
        (folder / "tags.dat").write_text(tags, encoding=encoding)
    return folder


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8"])
def test_ml_1m_and_10m_dat_files(tmp_path: Path, encoding: str) -> None:
    data = load_movielens(_write_dat(tmp_path / "ml-1m", encoding))
    assert data.name == "ml-1m"
    assert data.catalog.titles == ("Toy Story (1995)", "Cité des enfants perdus, La (1995)",
                                   "Mission: Impossible::2 (1996)")
    assert (len(data.interactions), data.n_users, data.n_items) == (4, 2, 3)
    assert sorted(data.interactions.value.tolist()) == [2.5, 3.0, 4.0, 5.0]
    assert data.interactions.event_names == ("rating",)
    assert data.interactions.time.min() == 978300275
    genres = {data.catalog.category_names[c] for c in data.catalog.categories.row(0)}
    assert genres == {"Animation", "Children's", "Comedy"}


def test_ml_10m_tags_are_a_timed_log(tmp_path: Path) -> None:
    tags = "1::1::pixar::1188263867\n2::3::tom cruise::1188263880\n"
    data = load_movielens(_write_dat(tmp_path / "ml-10m", "utf-8", tags))
    assert set(data.catalog.tag_names) == {"pixar", "tom cruise"}
    assert data.catalog.tag_time.tolist() == [1188263867, 1188263880]
    assert len(data.catalog.tags_before(1188263870).values) == 1


def test_broken_dat_files_name_the_problem(tmp_path: Path) -> None:
    folder = _write_dat(tmp_path / "ml-1m", "utf-8")
    (folder / "movies.dat").write_text("1::Toy Story (1995)\n")
    with pytest.raises(InvalidInput, match=r"line 1 .* not 3"):
        load_movielens(folder)
    (folder / "movies.dat").write_text(MOVIES_1M)
    (folder / "ratings.dat").write_text("1::1::five::978300760\n")
    with pytest.raises(InvalidInput, match=r"not in the MovieLens \.dat format"):
        load_movielens(folder)
    (folder / "ratings.dat").write_text(RATINGS)
    (folder / "movies.dat").unlink()
    with pytest.raises(NotFound, match=r"movies\.dat"):
        build_dataset(MovieLensDat(folder))


def test_ml_20m_25m_32m_csvs(tmp_path: Path) -> None:
    folder = tmp_path / "ml-32m"
    folder.mkdir()
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n"
                                        "1,17,4.0,944249077\n1,25,1.0,944250228\n"
                                        "2,17,4.5,1217897793\n")
    (folder / "movies.csv").write_text(
        'movieId,title,genres\n17,Sense and Sensibility (1995),Drama|Romance\n'
        '25,"Leaving Las Vegas (1995)",Drama|Romance\n30,Shanghai Triad (1995),'
        '(no genres listed)\n')
    (folder / "tags.csv").write_text("userId,movieId,tag,timestamp\n1,17,Jane Austen,"
                                     "1300000000\n")
    (folder / "links.csv").write_text("movieId,imdbId,tmdbId\n17,0114388,4584\n")  # ignored
    data = load_movielens(folder)
    assert (len(data.interactions), data.n_users, data.n_items) == (3, 2, 3)
    assert data.item_ids == ("17", "25", "30") and data.catalog.categories.row(2).size == 0
    assert data.catalog.tag_names == ("jane austen",)  # tags are folded to lower case
    assert np.isclose(data.interactions.value, [4.0, 1.0, 4.5]).all()


def test_a_folder_without_movielens_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"ratings\.dat and movies\.dat"):
        load_movielens(tmp_path)
