"""Highlighted snippets and spelling suggestions.

Snippets: the best window of the text (most distinct query terms), with every
word whose *stem* was searched wrapped in ``<mark>``; everything else is
HTML-escaped, so article text can never inject markup.

Suggestions come from the collection's own surface words (``columns.spell_words``),
not the stemmed index terms, so "econimy" becomes "economy", not "economi".
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable

import numpy as np

from search.index.schema import stem

SNIPPET_CHARS = 220
MAX_MARKS = 400
_WORD_RE = re.compile(r"\w+(?:\.\w+)*", re.UNICODE)
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


class Highlighter:
    """Knows which surface words match the searched terms (by stem, by prefix, or by exact expansion)."""

    def __init__(self, terms: Iterable[str], prefixes: Iterable[str] = ()):
        self.terms = set(terms)
        self.prefixes = tuple(prefixes)
        self._seen: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.terms or self.prefixes)

    def matches(self, word: str) -> bool:
        known = self._seen.get(word)
        if known is None:
            lowered = word.lower()
            known = stem(lowered) in self.terms or lowered in self.terms or lowered.startswith(self.prefixes)
            self._seen[word] = known
        return known

    def snippet(self, text: str, size: int = SNIPPET_CHARS) -> str:
        """An escaped excerpt of ``text`` around the densest cluster of matches, matches in <mark>."""
        text = " ".join(text.split())
        marks = self._marks(text) if self else []
        start = _best_window(marks, size) if marks else 0
        start, end = _word_bounds(text, start, size)
        inside = [(a, b) for a, b, _ in marks if a >= start and b <= end]
        return _render(text, start, end, inside)

    def _marks(self, text: str) -> list[tuple[int, int, str]]:
        """Positions of matching words: each distinct word is judged once, then one regex finds them all."""
        hits = {word for word in set(_WORD_RE.findall(text)) if self.matches(word)}
        if not hits:
            return []
        alternatives = "|".join(re.escape(w) for w in sorted(hits, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w.])(?:{alternatives})(?![\w]|\.\w)")
        return [(m.start(), m.end(), m.group().lower()) for m in itertools.islice(pattern.finditer(text), MAX_MARKS)]


def _best_window(marks: list[tuple[int, int, str]], size: int) -> int:
    """Start offset of the window holding the most distinct matched words (then the most matches)."""
    best, best_key = 0, (-1, -1)
    lead = size // 5
    for i, (first, _, _) in enumerate(marks):
        words = set()
        count = 0
        for _, end, word in marks[i:]:
            if end - first > size - lead:
                break
            words.add(stem(word))
            count += 1
        key = (len(words), count)
        if key > best_key:
            best, best_key = max(0, first - lead), key
    return best


def _word_bounds(text: str, start: int, size: int) -> tuple[int, int]:
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + size // 2 else end
    return start, end


def _render(text: str, start: int, end: int, marks: list[tuple[int, int]]) -> str:
    parts = ["… " if start > 0 else ""]
    pos = start
    for a, b in marks:
        parts.append(html.escape(text[pos:a]))
        parts.append(f"<mark>{html.escape(text[a:b])}</mark>")
        pos = b
    parts.append(html.escape(text[pos:end]))
    parts.append(" …" if end < len(text) else "")
    return "".join(parts)


# -- spelling ---------------------------------------------------------------------------------
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
        found = set()
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
