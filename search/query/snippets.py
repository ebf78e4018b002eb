"""Highlighted snippets: the best window of the text (most distinct query terms), with every
word whose *stem* was searched wrapped in ``<mark>``; everything else is HTML-escaped, so
article text can never inject markup. A word is what the indexer calls one (``schema.WORD_RE``).
"""

from __future__ import annotations

import html
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import NamedTuple

from search.index.schema import WORD_RE, stem

SNIPPET_CHARS = 220
SNIPPET_SCAN = 50_000  # characters searched for the best window: ~10 ms, where a 5 MB body took ~1 s
MAX_MARKS = 400


class SnippetText(NamedTuple):
    """A document's text as snippets read it, prepared once per document and cached beside the stored
    document (``Generation.snippet_text``): the collapsed opening and its distinct lowercased words.
    Tokenising was ~40 of the ~85 µs a warm Reuters snippet took; a shown article is shown again."""

    text: str  # the first SNIPPET_SCAN characters, runs of whitespace collapsed to one space
    more: bool  # the article goes on past SNIPPET_SCAN
    words: frozenset[str] | None  # distinct WORD_RE words of text.lower(); None when lowercasing shifts offsets
    found: dict[str, list[tuple[int, int, str]]]  # the places of the words searched so far (filled by queries)

    @classmethod
    def of(cls, text: str) -> SnippetText:
        opening = " ".join(text[:SNIPPET_SCAN].split())
        lowered = opening.lower()
        words = frozenset(WORD_RE.findall(lowered)) if len(lowered) == len(opening) else None
        return cls(opening, len(text) > SNIPPET_SCAN, words, {})

    def nbytes(self) -> int:
        """Rough memory, for the segment cache's byte bound (with room for the places of a few searched words)."""
        return 1300 + 2 * len(self.text) + sum(60 + len(w) for w in self.words or ())


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

    def snippet(self, source: str | SnippetText, size: int = SNIPPET_CHARS, *, mark: bool = True) -> str:
        """An escaped excerpt of the text around the densest cluster of matches, matches in <mark>.

        Only the first ``SNIPPET_SCAN`` characters are looked at, so a 5 MB article costs what a
        long one does; ``mark=False`` (the query is out of time) gives the plain opening instead.
        """
        prepared = source if isinstance(source, SnippetText) else SnippetText.of(source)
        text, more = prepared.text, prepared.more
        marks = self._marks(text, prepared.words, prepared.found) if self and mark else []
        start = _best_window(marks, size) if marks else 0
        start, end = _word_bounds(text, start, size)
        inside = [(a, b) for a, b, _ in marks if a >= start and b <= end]
        return _render(text, start, end, inside, more)

    def mark_all(self, text: str) -> str:
        """The whole text escaped, every match in <mark> (an article page opened from a search)."""
        marks = self._marks(text) if self else []
        return _render(text, 0, len(text), [(a, b) for a, b, _ in marks])

    def _marks(self, text: str, words: frozenset[str] | None = None,
               found: dict[str, list[tuple[int, int, str]]] | None = None) -> list[tuple[int, int, str]]:
        """(start, end, lowercased word) of every matching word in text order, at most ``MAX_MARKS``;
        ``words``: the distinct words of ``text.lower()`` and ``found``: the places of words looked up
        before, when known (``SnippetText``).

        The distinct words are judged with set operations (each word once per set of terms, remembered
        across queries), then each matching word is found with ``str.find`` and kept where it stands as a
        whole word (the indexer's word pattern, not right after a dot). No per-word Python loop over the
        text and no regex compiled per document: both were most of a warm answer at ×10.
        """
        lowered = None
        if words is None:
            lowered = text.lower()
            if len(lowered) != len(text):  # a character whose lowercase is longer: offsets would shift
                return self._marks_by_word(text)
            words = frozenset(WORD_RE.findall(lowered))
        out = []
        for word in self._matching(words):
            spots = found.get(word) if found is not None else None
            if spots is None:
                lowered = lowered if lowered is not None else text.lower()
                spots = _occurrences(lowered, word)
                if found is not None:
                    found[word] = spots
            out.extend(spots)
        out.sort()
        return out[:MAX_MARKS]

    def _matching(self, words: frozenset[str]) -> set[str]:
        with _JUDGED_LOCK:  # the sets are shared by the threads answering queries with the same terms
            yes, no = _judgements(self.terms)
            for word in words - yes - no:
                (yes if self.matches(word) else no).add(word)
            return words & yes

    def _marks_by_word(self, text: str) -> list[tuple[int, int, str]]:
        """The same marks, one word at a time (for texts whose lowercase changes length)."""
        out = []
        for match in WORD_RE.finditer(text):
            start = match.start()
            if self.matches(match.group()) and not (start and text[start - 1] == "."):
                out.append((start, match.end(), match.group().lower()))
                if len(out) >= MAX_MARKS:
                    break
        return out


def _occurrences(lowered: str, word: str) -> list[tuple[int, int, str]]:
    """Where ``word`` stands in ``lowered`` as a whole word (not inside another, not right after a dot)."""
    out = []
    end_of_text = len(lowered)
    at = lowered.find(word)
    while at >= 0:
        end = at + len(word)
        if (at == 0 or not _wordish(lowered[at - 1]) and lowered[at - 1] != ".") and \
                (end == end_of_text or not (_wordish(lowered[end]) or (
                    lowered[end] == "." and end + 1 < end_of_text and _wordish(lowered[end + 1])))):
            out.append((at, end, word))
        at = lowered.find(word, at + 1)
    return out


def _wordish(char: str) -> bool:
    """What ``\\w`` matches: Unicode letters, digits and numerics (``str.isalnum``), and the underscore."""
    return char.isalnum() or char == "_"


_JUDGED: OrderedDict[frozenset, tuple[set, set]] = OrderedDict()
_JUDGED_SETS, _JUDGED_WORDS = 128, 50_000
_JUDGED_LOCK = threading.Lock()


def _judgements(terms: set[str]) -> tuple[set, set]:
    """(words that match, words that don't) for one set of terms, kept for the next query with the same terms."""
    key = frozenset(terms)
    found = _JUDGED.get(key)
    if found is None or len(found[0]) + len(found[1]) > _JUDGED_WORDS:
        found = _JUDGED[key] = (set(), set())
        while len(_JUDGED) > _JUDGED_SETS:
            _JUDGED.popitem(last=False)
    _JUDGED.move_to_end(key)
    return found


def _best_window(marks: list[tuple[int, int, str]], size: int) -> int:
    """Start offset of the window holding the most distinct matched words (then the most matches)."""
    best, best_key = 0, (-1, -1)
    lead = size // 5
    stems = [stem(word) for _, _, word in marks]
    for i, (first, _, _) in enumerate(marks):
        words = set()
        count = 0
        for j in range(i, len(marks)):
            if marks[j][1] - first > size - lead:
                break
            words.add(stems[j])
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


def _render(text: str, start: int, end: int, marks: list[tuple[int, int]], more: bool = False) -> str:
    parts = ["… " if start > 0 else ""]
    pos = start
    for a, b in marks:
        parts.append(html.escape(text[pos:a]))
        parts.append(f"<mark>{html.escape(text[a:b])}</mark>")
        pos = b
    parts.append(html.escape(text[pos:end]))
    parts.append(" …" if end < len(text) or more else "")
    return "".join(parts)

