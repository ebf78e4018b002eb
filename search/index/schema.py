"""The Whoosh schema and its text analyzer.

``NewsTokenizer`` does in one pass what Whoosh's RegexTokenizer →
LowercaseFilter → StopFilter → StemFilter chain does in four generator
layers: it is the hot loop of indexing and of highlighting, so it is worth
being one loop (about 2× faster, same tokens). Its ``WORD_RE`` is also what the
snippet highlighter calls a word, so what is marked is what was indexed.
"""

from __future__ import annotations

import re

from whoosh import fields
from whoosh.analysis import STOP_WORDS, Token, Tokenizer
from whoosh.formats import Positions
from whoosh.lang.porter import stem as porter_stem

from search.facets import FILTER_FACETS

WORD_RE = re.compile(r"\w+(?:\.\w+)*", re.UNICODE)  # "u.s", "3.5"; "putin's" -> "putin", "s"
_ASCII_WORD_RE = re.compile(WORD_RE.pattern, re.ASCII)  # the same words in ASCII text, found ~20% faster


def words(text: str) -> list[str]:
    """The lowercased words of ``WORD_RE`` in ``text`` (for ASCII text its ASCII twin: the same ``\\w``)."""
    lowered = text.lower()
    return (_ASCII_WORD_RE if lowered.isascii() else WORD_RE).findall(lowered)


_STEM_CACHE: dict[str, str] = {}
_STEM_CACHE_MAX = 200_000


def stem(word: str) -> str:
    """Porter stem with a bounded cache: news vocabulary repeats a lot."""
    cached = _STEM_CACHE.get(word)
    if cached is None:
        if not word.isalpha():
            return word  # "u.s", "1987", "g7": stemming only mangles them
        if len(_STEM_CACHE) > _STEM_CACHE_MAX:
            _STEM_CACHE.clear()
        cached = _STEM_CACHE[word] = porter_stem(word)
    return cached


class NewsTokenizer(Tokenizer):
    """Words, lowercased, stop words dropped (positions kept), optionally stemmed."""

    def __init__(self, stemming: bool = True, stoplist=STOP_WORDS, minsize: int = 2, maxsize: int = 40):
        self.stemming = stemming
        self.stoplist = frozenset(stoplist)
        self.minsize = minsize
        self.maxsize = maxsize

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        stoplist, minsize, maxsize = self.stoplist, self.minsize, self.maxsize
        stemming = self.stemming and mode != "nostem"
        if not tokenize:
            words = [(0, value.lower(), start_char, start_char + len(value))]
        else:
            lowered = value.lower()
            words = ((i, m.group(), m.start(), m.end()) for i, m in enumerate(WORD_RE.finditer(lowered)))
        for pos, word, begin, end in words:
            stopped = word in stoplist or not minsize <= len(word) <= maxsize
            if stopped and removestops:
                continue
            token.text = stem(word) if stemming else word
            token.stopped = stopped
            token.boost = 1.0
            if keeporiginal:
                token.original = value[begin:end]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + begin
                token.endchar = start_char + end
            yield token


    def term(self, word: str) -> str | None:
        """The indexed term of one lowercased word of ``WORD_RE``, None when it is dropped (what ``__call__``
        and ``term_positions`` keep; ``token_log`` asks once per distinct word)."""
        if word in self.stoplist or not self.minsize <= len(word) <= self.maxsize:
            return None
        return stem(word) if self.stemming else word

    def term_positions(self, value: str) -> dict[str, list[int]]:
        """{term: [positions]} for indexing, without building a Token per word."""
        out: dict[str, list[int]] = {}
        term_of = self.term
        for pos, word in enumerate(words(value)):
            term = term_of(word)
            if term is None:
                continue
            found = out.get(term)
            if found is None:
                out[term] = [pos]
            else:
                found.append(pos)
        return out


class FastPositions(Positions):
    """Whoosh's Positions format, fed straight from ``NewsTokenizer.term_positions``."""

    def word_values(self, value, analyzer, **kwargs):
        term_positions = getattr(analyzer, "term_positions", None)
        if term_positions is None:
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost, encode = self.field_boost, self.encode
        for term, positions in term_positions(value).items():
            yield term, len(positions), len(positions) * boost, encode(positions)


def text_field(analyzer, stored: bool = False, field_boost: float = 1.0) -> fields.TEXT:
    field = fields.TEXT(analyzer=analyzer, stored=stored, field_boost=field_boost)
    field.format = FastPositions(field_boost=field_boost)
    return field


def news_analyzer():
    return NewsTokenizer()


def entity_analyzer():
    """Names are matched word by word (``people:putin``), never stemmed nor stop-listed."""
    return NewsTokenizer(stemming=False, stoplist=(), minsize=1)


TEXT_FIELDS = ("title", "body")

# Title matches outrank body matches (DESIGN.md). The title's weight acts in two places, and the two
# factors are not one product. TITLE_TF_BOOST is written into every title posting at index time (a title
# word counts as 2.5 occurrences *before* BM25's tf saturation, and every index built so far carries it);
# FIELD_WEIGHT multiplies a field's BM25 score at query time (search/query/postings.py). Measured on a
# tiny index: a title posting's weight is 2.5, a body one's 1.0; at average length one title occurrence
# scores 2.0 × 2.5·2.2/(2.5+1.2) ≈ 2.97× the same body occurrence, not 2.5 × 2.0 = 5.
TITLE_TF_BOOST = 2.5
FIELD_WEIGHT = {"title": 2.0, "body": 1.0}
NAME_FIELDS = (*FILTER_FACETS, "authors")  # matched word by word with the entity analyzer (``people:putin``)
QUERY_FIELDS = (*TEXT_FIELDS, *NAME_FIELDS)  # what `field:value` may name
SEPARATOR = "\x1f"  # joins list values for the indexed name fields


def build_schema() -> fields.Schema:
    """Text fields for the query box; everything a result shows is in ``data`` (one stored dict)."""
    text = news_analyzer()
    names = entity_analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        path=fields.ID(stored=True),
        hash=fields.ID(stored=True),
        title=text_field(text, stored=True, field_boost=TITLE_TF_BOOST),
        body=text_field(text, stored=True),
        date=fields.DATETIME(stored=True),
        data=fields.STORED,
        **{name: text_field(names) for name in NAME_FIELDS},
    )
