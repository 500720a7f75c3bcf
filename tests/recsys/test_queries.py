"""The search noise model: seeded, bounded edits, documented steps, held-apart test queries."""

from __future__ import annotations

import pytest

from reelgraph.recsys.queries import ARTICLES, NoiseModel, held_apart
from reelgraph.recsys.text import TextEncoder, plain_title

TITLES = ["Terminator, The (1984)", "Star Wars: Episode V - The Empire Strikes Back (1980)",
          "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Up (2009)",
          "Schindler's List (1993)"]


def levenshtein(a: str, b: str) -> int:
    """Textbook dynamic programme, independent of the library the model uses."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                           previous + (ca != cb))
    return row[-1]


def test_plain_titles() -> None:
    assert [plain_title(t) for t in TITLES] == [
        "the terminator", "star wars episode v the empire strikes back", "amelie", "up",
        "schindlers list"]


def test_same_seed_same_query_other_seed_other_queries() -> None:
    noise = NoiseModel()
    first = [noise.query(1, i, v, t) for i, t in enumerate(TITLES) for v in range(20)]
    again = [noise.query(1, i, v, t) for i, t in enumerate(TITLES) for v in range(20)]
    other = [noise.query(2, i, v, t) for i, t in enumerate(TITLES) for v in range(20)]
    assert first == again
    assert [q.text for q in first] != [q.text for q in other]


def test_every_step_stays_within_its_bounds() -> None:
    noise = NoiseModel()
    queries = [noise.query(7, i, v, t, ["time travel", "robots"])
               for i, t in enumerate(TITLES) for v in range(200)]
    for q in queries:
        assert q.edits in (0, 1, 2)
        assert levenshtein(q.clean, q.text) == q.edits
        assert q.text.strip()
        words = plain_title(TITLES[q.item]).split()
        if q.truncated:
            assert len(q.clean) >= 4
        else:
            kept = q.clean.removesuffix(f" {q.tag}" if q.tag else "").split()
            assert len(kept) == len(words) - q.dropped
            assert all(w in words for w in kept)
            assert any(w not in ARTICLES for w in kept) or all(w in ARTICLES for w in words)
    kinds = {"typo1": sum(q.edits == 1 for q in queries),
             "typo2": sum(q.edits == 2 for q in queries),
             "truncated": sum(q.truncated for q in queries),
             "dropped": sum(q.dropped > 0 for q in queries),
             "tag": sum(bool(q.tag) for q in queries),
             "clean": sum(q.text == plain_title(TITLES[q.item]) for q in queries)}
    assert all(count > 20 for count in kinds.values()), kinds


def test_rates_follow_the_model() -> None:
    never = NoiseModel(tag=0, drop_word=0, truncate=0, typo=0)
    assert all(never.query(3, i, v, t, ["x"]).text == plain_title(t)
               for i, t in enumerate(TITLES) for v in range(20))
    always = NoiseModel(typo=1.0, two_typos=1.0, truncate=0)
    assert all(q.edits == 2 for q in (always.query(3, 1, v, TITLES[1]) for v in range(50)))


def test_held_apart_never_returns_a_training_pair() -> None:
    noise = NoiseModel()
    training = {(0, noise.query(1, 0, v, TITLES[0]).text) for v in range(50)}
    found = [held_apart(noise, 2, 0, TITLES[0], [], training, first_variant=8 * r)
             for r in range(40)]
    assert all(q is None or (0, q.text) not in training for q in found)
    assert sum(q is not None for q in found) > 30
    impossible = NoiseModel(tag=0, drop_word=0, truncate=0, typo=0)
    clean = {(0, plain_title(TITLES[0]))}
    assert held_apart(impossible, 2, 0, TITLES[0], [], clean, first_variant=0) is None


def test_misspellings_share_most_ngrams() -> None:
    encoder = TextEncoder()
    rows = encoder.encode(["terminator", "termnator", "notting hill"])
    meant, typo, other = (set(rows.row(i).tolist()) for i in range(3))
    assert len(meant & typo) / len(meant) >= 0.5  # the typo keeps half the word's n-grams
    assert not meant & other
    assert len(encoder.encode([""]).values) == 0
    assert (rows.values > 0).all() and (rows.values < encoder.buckets).all()


@pytest.mark.parametrize("text", ["Star Wars", "  star   WARS!! "])
def test_encoding_is_stable_across_spellings_of_case_and_space(text: str) -> None:
    encoder = TextEncoder()
    assert encoder.encode([text]).values.tolist() == encoder.encode(["star wars"]).values.tolist()
