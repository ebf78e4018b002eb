"""The hit set of one query: facet counts, ordering and results over every hit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from search.facets import FILTER_FACETS
from search.index import entity_merge
from search.index.columns import NO_DATE
from search.index.schema import TEXT_FIELDS, news_analyzer
from search.query import tree as qtree
from search.query.answer import FacetCount, Result, describe
from search.query.evaluate import Deadline, Evaluator
from search.query.params import SearchParams
from search.query.snippets import Highlighter
from search.query.spelling import suggest

if TYPE_CHECKING:
    from search.query.engine import Generation

FACET_LIMIT = 20  # values listed per facet in an answer
ORDER_PREFIX = 256  # hits put in order at least: a collapsed page asks for growing prefixes (10, 40, 160 at ×10)
_NO_IDS = np.zeros(0, np.int64)  # no selection: skips building the facet's case-folded lookup (1.7 ms cold)


class HitSet:
    """Every document one search matches (query, dates and facet filters), and what is derived from it:
    facet counts, the order of the results, the results themselves, a spelling suggestion."""

    def __init__(self, gen: Generation, params: SearchParams, parsed: qtree.Parsed, deadline: Deadline):
        self.gen = gen
        self.cols = gen.columns
        self.params = params
        self.parsed = parsed
        self.deadline = deadline
        evaluator = Evaluator(gen.postings, deadline)
        self.text_mask, self.score = evaluator.run(parsed.tree)
        if params.cluster:  # one story cluster: part of what every count is taken over
            self.text_mask = self.text_mask & gen.clusters.mask(params.cluster)
        self.expansions = evaluator.expansions
        self.date_mask = self._date_mask(*params.date_range())
        self.facet_masks = self._facet_masks(params.facet_filters())
        self.mask = _all_of([self.text_mask, self.date_mask, *self.facet_masks.values()])
        self.hits = np.flatnonzero(self.mask)
        self._highlighter: Highlighter | None = None
        self.distinct: dict[str, int] = {}  # facet → how many values it has over the hit set (``facets()``)
        self._counts: dict[str, np.ndarray] | None = None  # facets without a selection, counted over ``hits``

    def _date_mask(self, start: int | None, end: int | None) -> np.ndarray | None:
        if start is None and end is None:
            return None
        return self.gen.date_order.mask(start, end)  # the publisher's day decides

    def _facet_masks(self, selected: dict[str, list[str]]) -> dict[str, np.ndarray]:
        masks = {}
        for name, values in selected.items():
            facet = self.cols.facets[name]
            values = entity_merge.canonical_filter(self.gen.alias_filters, name, values)  # "Reagan" -> "Ronald Reagan"
            masks[name] = facet.docs_mask(facet.ids_for(values), self.cols.size)
        return masks

    # -- facets --------------------------------------------------------------------------------
    def facets(self) -> dict[str, list[FacetCount]]:
        """The top values of each facet; ``distinct`` is filled with how many values each has in all."""
        out = {}
        for name in (*FILTER_FACETS, "year"):
            vocab, counts, selected = self.value_counts(name)
            self.distinct[name] = int(np.count_nonzero(counts))
            out[name] = _top(vocab, counts, selected, by_value=name == "year")
        return out

    def value_counts(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(values, their counts, selected value ids) of one facet over the entire hit set; a facet with a
        selection is counted without its own filter, so its other values stay visible."""
        if self._own_filter(name) is None:
            if self._counts is None:  # every facet without a selection, in one pass
                self._counts = self.gen.facet_codes.count(self.hits, self.mask)
            counts = self._counts[name]
        else:
            mask, hits = self._without("date" if name == "year" else name)
            counts = self.gen.facet_codes.count_one(name, hits, mask)
        if name == "year":
            return self._years(counts)
        facet = self.cols.facets[name]
        selected = getattr(self.params, name)
        return facet.vocab, counts, facet.ids_for(selected) if selected else _NO_IDS

    def _own_filter(self, name: str) -> np.ndarray | None:
        return self.date_mask if name in ("date", "year") else self.facet_masks.get(name)

    def _without(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if self._own_filter(name) is None:
            return self.mask, self.hits
        others: list[np.ndarray | None] = [m for key, m in self.facet_masks.items() if key != name]
        if name != "date":
            others.append(self.date_mask)
        mask = _all_of([self.text_mask, *others])
        return mask, np.flatnonzero(mask)

    def _years(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The year counts from the first to the last year with a hit (values: the years as text)."""
        present = np.flatnonzero(counts)
        if not len(present):
            return np.array([], dtype=str), np.zeros(0, np.int64), np.zeros(0, np.int64)
        low, high = int(present[0]), int(present[-1])
        first = self.gen.facet_codes.first_year
        return np.array([str(first + i) for i in range(low, high + 1)]), counts[low:high + 1], np.zeros(0, np.int64)

    # -- ordering ------------------------------------------------------------------------------
    def order(self, k: int) -> np.ndarray:
        """The first ``k`` hits in the requested order (ties: newer first, then doc number)."""
        hits = self.hits
        if not len(hits) or k <= 0:
            return hits[:0]
        primary, second = self._order_keys()
        if self._prefix is None or len(self._prefix) < min(k, len(hits)):
            want = max(k, ORDER_PREFIX)
            keep = _top_k(primary, want)
            docs = hits[keep]
            order = np.lexsort((docs, self._key(second, docs), primary[keep]))
            self._prefix = docs[order][:want]
        return self._prefix[:k]

    def _order_keys(self) -> tuple[np.ndarray, str]:
        """The hits' primary sort key and the kind of the secondary one (computed for the top hits only),
        kept with the sorted prefix while the sort and the scores stay: a collapsed page asks ``order`` for
        a growing prefix (×10 Reuters: three times per query)."""
        if self._keys is not None and self._keys[0] == self.params.sort:
            return self._keys[1], self._keys[2]
        self._prefix = None
        sort = self.params.sort
        if sort == "relevance":
            primary, second = self._key("score", self.hits), "newest"
            if not primary.any():  # browsing (empty query): newest first
                primary, second = self._key("newest", self.hits), "score"
        else:
            primary, second = self._key(sort, self.hits), "score"
        self._keys = (sort, primary, second)
        return primary, second

    def _key(self, kind: str, docs: np.ndarray) -> np.ndarray:
        """Ascending sort key of ``docs``: "score" (higher first), "newest", "oldest" (undated last)."""
        if kind == "score":
            return -self.score[docs].astype(np.float64)
        dates = self.cols.date[docs]
        values = dates.astype(np.float64)
        return np.where(dates != NO_DATE, -values if kind == "newest" else values, np.inf)

    @property
    def score(self) -> np.ndarray:
        """Every doc's score (float32 [N]); setting it (research's boost) resets the order keys."""
        return self._score

    @score.setter
    def score(self, value: np.ndarray) -> None:
        self._score = value
        self._keys: tuple[str, np.ndarray, str] | None = None
        self._prefix: np.ndarray | None = None  # the first hits in order, as far as ``order`` has sorted them

    # -- results -------------------------------------------------------------------------------
    def result(self, docnum: int, snippet: bool) -> Result:
        stored = self.gen.stored(docnum)
        out: Result = {**describe(stored), "score": round(float(self.score[docnum]), 3)}
        if snippet:
            out["snippet"] = self.highlighter().snippet(self.gen.snippet_text(docnum), mark=not self.deadline.expired())
        return out

    def highlighter(self) -> Highlighter:
        if self._highlighter is None:
            terms = {t for f, t in qtree.positive_terms(self.parsed.tree) if f in TEXT_FIELDS}
            for (fieldname, _), expanded in self.expansions.items():
                if fieldname in TEXT_FIELDS:
                    terms.update(expanded)
            self._highlighter = Highlighter(terms)
        return self._highlighter

    # -- spelling ------------------------------------------------------------------------------
    def suggestion(self, q: str) -> str | None:
        return suggest(q, self.parsed.words, lambda: self.gen.speller, self._in_index, len(self.hits))

    def _in_index(self, word: str) -> bool:
        analysed = [t.text for t in news_analyzer()(word)]
        postings = self.gen.postings
        return bool(analysed) and all(postings.indexed("body", t) or postings.indexed("title", t) for t in analysed)


def _all_of(masks: list[np.ndarray | None]) -> np.ndarray:
    present = [m for m in masks if m is not None]
    out = present[0].copy()
    for mask in present[1:]:
        out &= mask
    return out


def _top_k(primary: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest keys, plus everything tied with the k-th (so tie-breaks stay exact)."""
    if k >= len(primary):
        return np.arange(len(primary))
    kth = np.partition(primary, k - 1)[k - 1]
    return np.flatnonzero(primary <= kth)


def _top(vocab: np.ndarray, counts: np.ndarray, selected: np.ndarray, by_value: bool = False) -> list[FacetCount]:
    """Top values by count (then name; years: newer first); selected values are always listed so they can
    be unticked. Every value is available from ``search.query.facetvalues``."""
    nonzero = np.flatnonzero(counts)
    if len(nonzero) > FACET_LIMIT:
        cut = np.partition(counts[nonzero], len(nonzero) - FACET_LIMIT)[len(nonzero) - FACET_LIMIT]
        nonzero = nonzero[counts[nonzero] >= cut]
    tie = (lambda i: -i) if by_value else (lambda i: vocab[i])
    ranked = sorted(nonzero.tolist(), key=lambda i: (-counts[i], tie(i)))[:FACET_LIMIT]
    ranked += [int(i) for i in selected.tolist() if int(i) not in ranked]
    return [{"value": str(vocab[i]), "count": int(counts[i])} for i in ranked]

