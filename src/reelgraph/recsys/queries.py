"""Synthetic search queries: what a person might type when looking for an item.

The noise model, applied to the item's plain title (``text.plain_title``) in this order,
each step drawn from a generator seeded by ``(seed, item, variant)`` so the same arguments
always give the same query:

1. dropped words: in a title of three or more words, each word but the first that is not an
   article is dropped with probability ``drop_word`` ("star wars empire strikes back");
2. tag: with probability ``tag``, one of the item's tags (known before the cut-off) is
   appended ("toy story pixar");
3. truncation: with probability ``truncate``, the text is cut to a prefix of 50-90% of its
   characters, at least 4 ("star wars emp");
4. typos: with probability ``typo`` (if the text has four letters or more), one character
   edit, two with probability ``two_typos``
   of those; an edit deletes a letter, inserts a neighbour key of a letter, or replaces a
   letter by a neighbour key (QWERTY), equally likely. The Levenshtein distance between the
   text before and after this step is exactly the number of edits ("termnator"): draws that
   cancel out are redrawn.

Training and test queries come from different seeds, and a test query is never one that
training already holds for the same item (``held_apart``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from reelgraph.recsys.text import plain, plain_title

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
NEIGHBOURS = {
    key: "".join(row[j] for j in (i - 1, i + 1) if 0 <= j < len(row))
    + "".join(other[i] for other in _ROWS if other is not row and i < len(other)
              and abs(_ROWS.index(other) - _ROWS.index(row)) == 1)
    for row in _ROWS for i, key in enumerate(row)
}
_REDRAWS = 10
ARTICLES = frozenset({"the", "a", "an"})


@dataclass(frozen=True)
class Query:
    text: str  # what is typed
    item: int  # the item meant
    variant: int
    clean: str  # the text before typos
    edits: int  # Levenshtein distance between clean and text
    truncated: bool
    dropped: int  # words dropped
    tag: str  # the tag appended, or ""


@dataclass(frozen=True)
class NoiseModel:
    tag: float = 0.2
    drop_word: float = 0.15
    truncate: float = 0.3
    typo: float = 0.6
    two_typos: float = 0.4

    def query(self, seed: int, item: int, variant: int, title: str,
              tags: Sequence[str] = ()) -> Query:
        """Query number ``variant`` for ``item`` (deterministic in its arguments)."""
        rng = random.Random(f"{seed}:{item}:{variant}")
        words = plain_title(title).split() or plain(title).split() or ["untitled"]
        anchor = next((i for i, w in enumerate(words) if w not in ARTICLES), 0)
        kept = [w for i, w in enumerate(words) if i == anchor or len(words) < 3
                or rng.random() >= self.drop_word]
        tag = ""
        if tags and rng.random() < self.tag:
            tag = plain(rng.choice(list(tags)))
        text = " ".join([*kept, tag] if tag else kept)
        truncated = False
        if rng.random() < self.truncate and len(text) > 4:
            low = max(4, int(0.5 * len(text)))
            high = max(low, int(0.9 * len(text)))
            text = text[: rng.randint(low, high)].rstrip()
            truncated = True
        clean = text
        edits = 0
        if rng.random() < self.typo and sum(c in NEIGHBOURS for c in text) >= 4:
            text, edits = _typos(text, 2 if rng.random() < self.two_typos else 1, rng)
        return Query(text, item, variant, clean, edits, truncated,
                     len(words) - len(kept), tag)


def _edit(text: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(text) if c in NEIGHBOURS]
    at = rng.choice(letters)
    kind = rng.randrange(3)
    if kind == 0 and len(text) > 1:
        return text[:at] + text[at + 1:]
    key = rng.choice(NEIGHBOURS[text[at]])
    if kind == 1:
        return text[:at] + key + text[at:]
    return text[:at] + key + text[at + 1:]


def _typos(text: str, edits: int, rng: random.Random) -> tuple[str, int]:
    """``text`` with typos at exactly ``edits`` edits (one, if two keep cancelling out)."""
    for _ in range(_REDRAWS):
        typed = text
        for _ in range(edits):
            typed = _edit(typed, rng)
        if Levenshtein.distance(text, typed) == edits and typed.strip():
            return typed, edits
    typed = _edit(text, rng)  # a single edit is never undone
    return typed, Levenshtein.distance(text, typed)


def held_apart(noise: NoiseModel, seed: int, item: int, title: str, tags: Sequence[str],
               training: set[tuple[int, str]], first_variant: int, tries: int = 8
               ) -> Query | None:
    """A query for ``item`` whose (item, text) pair ``training`` does not hold, or None."""
    for variant in range(first_variant, first_variant + tries):
        query = noise.query(seed, item, variant, title, tags)
        if (item, query.text) not in training:
            return query
    return None
