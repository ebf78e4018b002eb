"""The one-pass snippet marking finds exactly what the earlier judge-then-regex formulation found."""

from __future__ import annotations

import itertools
import re

import pytest

from search.index.schema import WORD_RE
from search.query.snippets import MAX_MARKS, Highlighter


def regex_marks(highlighter: Highlighter, text: str) -> list[tuple[int, int, str]]:
    """The reference: judge the distinct words, then one regex of the matching ones with word boundaries."""
    hits = {word for word in set(WORD_RE.findall(text)) if highlighter.matches(word)}
    if not hits:
        return []
    alternatives = "|".join(re.escape(w) for w in sorted(hits, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.])(?:{alternatives})(?![\w]|\.\w)")
    return [(m.start(), m.end(), m.group().lower()) for m in itertools.islice(pattern.finditer(text), MAX_MARKS)]


TEXTS = [
    "Oil prices rose. OIL-rich states; oil.prices and ..oil and oil. and (oil) oils oiled",
    "The U.S. said u.s officials met in the U.S; 3.5 pct of U.S.-based firms",
    "Storms reopened the harbour; storm, STORMS, stormy weather and re-opened ports",
    "Ölpreise und Öl: Ölfelder, öl.",
    "",
    "oil " * (MAX_MARKS + 50),
]


@pytest.mark.parametrize("terms", [{"oil"}, {"u.s", "offici"}, {"storm", "reopen"}, {"öl", "ölpreis"}, {"3.5"}])
@pytest.mark.parametrize("text", TEXTS)
def test_one_pass_marks_equal_the_regex_formulation(terms, text):
    assert Highlighter(terms)._marks(text) == regex_marks(Highlighter(terms), text)
