"""Text for the model: titles made plain, and character n-grams hashed into buckets.

``plain_title("Matrix, The (1999)") == "the matrix"``: lower case, accents dropped, the
year and other parenthesised parts removed, a trailing article put back in front,
punctuation gone (apostrophes join: "schindler's" -> "schindlers").

``TextEncoder`` turns a text into bucket ids: every word, padded as ``#word#``, gives its
character n-grams (trigrams by default) and itself, and with ``whole`` the whole plain text
gives one more (an exact title then shares a bucket no other title has); each is hashed
with CRC-32 (stable across processes, unlike ``hash``) into ``1..buckets-1`` (0 is never
used). A misspelt or partial word shares most of its n-grams with the word meant, which is
what makes the query encoder forgiving.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from reelgraph.recsys.ragged import Ragged

_PARENTHESES = re.compile(r"\([^)]*\)")
_ARTICLE = re.compile(r"^(.*), (the|a|an|les|la|le|il|el|das|der|die|l')$")
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
BUCKETS = 1 << 14
MIN_PREFIX = 3


def plain(text: str) -> str:
    """Lower case ASCII letters, digits and single spaces."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    joined = ascii_text.lower().replace("'", "")
    return " ".join(_NOT_WORD.sub(" ", joined).split())


def plain_title(title: str) -> str:
    without = " ".join(_PARENTHESES.sub(" ", title).split()).strip()
    moved = _ARTICLE.match(without.lower())
    return plain(f"{moved.group(2)} {moved.group(1)}" if moved else without)


class TextEncoder:
    """Hashes texts into n-gram bucket ids; pure function of (buckets, sizes)."""

    def __init__(self, buckets: int = BUCKETS, sizes: Sequence[int] = (3,),
                 whole: bool = False, prefixes: bool = False) -> None:
        self.buckets = buckets
        self.sizes = tuple(sizes)
        self.whole = whole
        self.prefixes = prefixes
        self.grams = lru_cache(maxsize=1 << 16)(self._grams)

    def __reduce__(self) -> tuple[type[TextEncoder], tuple[int, tuple[int, ...], bool, bool]]:
        # not the cache; a bundle pickled before ``prefixes`` gives 3 arguments: no prefixes
        return TextEncoder, (self.buckets, self.sizes, self.whole, self.prefixes)

    def _grams(self, text: str) -> tuple[int, ...]:
        found: list[int] = []
        words = plain(text).split()
        if self.whole and words:
            found.append(self._bucket("t:" + " ".join(words)))
        for word in words:
            padded = f"#{word}#"
            pieces = [f"w:{word}"] + [padded[i:i + n] for n in self.sizes
                                      for i in range(len(padded) - n + 1)]
            if self.prefixes:  # a word cut short, or typed wrong late, keeps its start
                pieces += [f"p:{word[:n]}" for n in range(MIN_PREFIX, len(word))]
            found += [self._bucket(p) for p in pieces]
        return tuple(found)

    def _bucket(self, piece: str) -> int:
        return zlib.crc32(piece.encode()) % (self.buckets - 1) + 1

    def encode(self, texts: Sequence[str]) -> Ragged:
        """One row of bucket ids per text (an empty text gives an empty row)."""
        rows = [self.grams(t) for t in texts]
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        flat = np.fromiter((g for r in rows for g in r), dtype=np.int64,
                           count=int(lengths.sum()))
        return Ragged.from_lengths(lengths, flat)
