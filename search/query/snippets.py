"""Highlighted snippets: the best window of the text (most distinct query terms), with every
word whose *stem* was searched wrapped in ``<mark>``; everything else is HTML-escaped, so
article text can never inject markup. A word is what the indexer calls one (``schema.WORD_RE``).
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable

from search.index.schema import WORD_RE, stem

SNIPPET_CHARS = 220
MAX_MARKS = 400


class Highlighter:
    """Knows which surface words match the searched terms: by stem, or exactly (prefix and wildcard
    expansions are index terms, so "harb*" marks the words whose stem it expanded to)."""

    def __init__(self, terms: Iterable[str]):
        self.terms = set(terms)
        self._seen: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.terms)

    def matches(self, word: str) -> bool:
        known = self._seen.get(word)
        if known is None:
            lowered = word.lower()
            known = stem(lowered) in self.terms or lowered in self.terms
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
        hits = {word for word in set(WORD_RE.findall(text)) if self.matches(word)}
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

