"""Spelling suggestions from the collection's own surface words (``columns.spell_words``),
not the stemmed index terms, so "econimy" becomes "economy", not "economi"."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from search.query.parse import replace_words

FEW_HITS = 3  # fewer hits than this and even a known word gets a (much more frequent) alternative
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def suggest(q: str, words: list[str], speller: Callable[[], Speller], in_index: Callable[[str], bool],
            hits: int) -> str | None:
    """A corrected query when a word is unknown to the collection, or when the query finds almost nothing.

    ``words`` are the plain words the parser found in ``q``; ``in_index`` says whether the index
    knows a word's analysed terms (a word can be indexed yet missing from the speller's vocabulary).
    ``speller`` is asked for only when needed: building it from a generation's vocabulary cost 7 ms
    of a 19 ms cold query (Reuters ×1), and most queries are indexed words with plenty of hits.
    """
    few = hits < FEW_HITS
    fixes = {}
    for word in dict.fromkeys(w.lower() for w in words if len(w) >= 3):
        if in_index(word) or speller().known(word):
            fix = speller().correct(word, min_ratio=50) if few else None
        else:
            fix = speller().correct(word)
        if fix:
            fixes[word] = fix
    if not fixes:
        return None
    return replace_words(q, fixes)


class Speller:
    """Corrections within edit distance 2 from the collection's vocabulary (SymSpell-style delete index)."""

    def __init__(self, words: np.ndarray, freq: np.ndarray):
        self.freq = dict(zip(words.tolist(), freq.tolist(), strict=True))
        self._deletes: dict[str, list[str]] | None = None

    def known(self, word: str) -> int:
        return self.freq.get(word, 0)

    def correct(self, word: str, min_ratio: float = 0.0) -> str | None:
        """The likeliest vocabulary word near ``word``; with ``min_ratio``, only one that many times as frequent."""
        word = word.lower()
        own = self.freq.get(word, 0)
        near = [w for w in _edits1(word) if w in self.freq and w != word]
        if not near and not own:
            near = [w for w in self._distance2(word) if w != word]
        if not near:
            return None
        best = max(near, key=lambda w: (self.freq[w], w))
        if own and self.freq[best] < max(min_ratio, 1) * own:
            return None
        return best

    def _distance2(self, word: str) -> list[str]:
        index = self._delete_index()
        found: set[str] = set()
        for variant in {word, *_deletes1(word)}:
            found.update(index.get(variant, ()))
        return [w for w in found if _distance(word, w) <= 2]

    def _delete_index(self) -> dict[str, list[str]]:
        if self._deletes is None:
            index: dict[str, list[str]] = {}
            for w in self.freq:
                for variant in {w, *_deletes1(w)}:
                    index.setdefault(variant, []).append(w)
            self._deletes = index
        return self._deletes


def _deletes1(word: str) -> list[str]:
    return [word[:i] + word[i + 1:] for i in range(len(word))]


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _ALPHABET]
    inserts = [a + c + b for a, b in splits for c in _ALPHABET]
    return set(deletes + transposes + replaces + inserts)


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]
