"""The query's fast paths give exactly what the plain paths give, on the real Reuters collection:
facet counts from the code matrix (``facetcount``) against per-facet pair counting (``Facet.count``),
snippets cut from the cached ``SnippetText`` against snippets of the raw stored text, the evaluation
combining arrays in place against a fresh pair of arrays per node."""

from __future__ import annotations

import numpy as np
import pytest

from search.index.columns import NO_DATE
from search.query import parse as qparse
from search.query.engine import SearchEngine
from search.query.evaluate import DateOrder, Deadline, Evaluator, date_mask
from search.query.hits import HitSet
from search.query.params import SearchParams
from search.query.snippets import Highlighter
from search.query.tree import Not, Phrase, Term

pytestmark = pytest.mark.slow

QUERIES = [
    {"q": "oil"},
    {"q": "shares"},
    {"q": "grain exports ussr"},
    {"q": '"interest rates"', "from": "1987-03"},
    {"q": "opec -saudi"},
    {"q": "econom*"},
    {"q": "wheat", "places": ["usa"]},
    {"q": "acquisition", "topics": ["acq"], "places": ["usa"]},
    {"q": "dividend", "from": "1987-03", "to": "1987-03"},
    {"q": "", "people": ["reagan"]},
    {"q": ""},
    {"q": "zzzznotaword"},
]


@pytest.fixture(scope="module")
def engine(reuters_index):
    return SearchEngine(reuters_index, time_budget_s=60)


def reference_counts(hit_set: HitSet, name: str) -> tuple[list[str], list[int]]:
    """The plain way: the facet's own (doc, value) pairs counted over the hit set without its own filter."""
    own = hit_set.date_mask if name == "year" else hit_set.facet_masks.get(name)
    others = [m for key, m in hit_set.facet_masks.items() if key != name]
    if name != "year":
        others.append(hit_set.date_mask)
    mask = hit_set.mask if own is None else np.logical_and.reduce(
        [hit_set.text_mask, *[m for m in others if m is not None]])
    hits = np.flatnonzero(mask)
    if name == "year":
        years = hit_set.gen.year[hits]
        years = years[years >= 0]
        if not len(years):
            return [], []
        counts = np.bincount(years - years.min())
        return [str(int(years.min()) + i) for i in range(len(counts))], counts.tolist()
    facet = hit_set.cols.facets[name]
    return facet.vocab.tolist(), facet.count(hits, mask).tolist()


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: str(q))
def test_facet_counts_equal_counting_each_facets_pairs(engine, query):
    gen = engine.generation()
    params = SearchParams.from_mapping({"per_page": 10, **query})
    hit_set = HitSet(gen, params, qparse.parse(params.q), Deadline(60))
    for name in (*gen.columns.facets, "year"):
        vocab, counts, _ = hit_set.value_counts(name)
        assert (vocab.tolist(), counts.tolist()) == reference_counts(hit_set, name), name


@pytest.mark.parametrize("fraction", [0.0, 0.0005, 0.01, 0.3, 1.0])
def test_code_matrix_counts_any_hit_set_like_the_pairs(engine, fraction):
    """Random hit sets, few to all: both ways of counting the extra values (gathered, masked)."""
    gen = engine.generation()
    mask = np.random.default_rng(7).random(gen.columns.size) < fraction
    hits = np.flatnonzero(mask)
    counted = gen.facet_codes.count(hits, mask)
    for name, facet in gen.columns.facets.items():
        assert counted[name].tolist() == facet.count(hits, mask).tolist(), name
        assert gen.facet_codes.count_one(name, hits, mask).tolist() == counted[name].tolist(), name
    assert gen.facet_codes.count_one("year", hits, mask).tolist() == counted["year"].tolist()


def test_snippets_from_the_cached_text_equal_snippets_of_the_stored_text(engine):
    gen = engine.generation()
    for query in ({"q": "oil prices"}, {"q": "econom*"}, {"q": '"stock exchange"'}):
        params = SearchParams.from_mapping(query)
        hit_set = HitSet(gen, params, qparse.parse(params.q), Deadline(60))
        for _ in range(2):  # the second time from the cache
            for doc in hit_set.order(10).tolist():
                stored = gen.stored(doc)
                fresh = Highlighter(hit_set.highlighter().terms).snippet(stored.get("body") or stored.get("title"))
                assert hit_set.result(doc, snippet=True)["snippet"] == fresh


class ReferenceEvaluator(Evaluator):
    """The plain evaluation: a fresh pair of arrays per node, combined with ``&``/``|``/``+``/``np.where``."""

    def node(self, node):
        if isinstance(node, Term):
            docs, scores = self.postings.scored(node.field, node.text)
            mask, score = np.zeros(self.size, bool), np.zeros(self.size, np.float32)
            mask[docs], score[docs] = True, scores
            return mask, score
        if isinstance(node, Phrase):
            return self.phrase(node)
        return super().node(node)

    def phrase(self, node):
        """Each candidate doc checked in Python: some position of the first word with every other word at
        its offset; scores summed word by word over the whole arrays, then zeroed outside the matches."""
        parts = [self.postings.scored(node.field, term) for _, term in node.words]
        candidates = parts[0][0]
        for docs, _ in parts[1:]:
            candidates = np.intersect1d(candidates, docs)
        starts = {}
        for offset, term in node.words:
            docs, ptr, flat = self.postings.positions(node.field, term)
            at = np.searchsorted(docs, candidates)
            for doc, i in zip(candidates.tolist(), at.tolist(), strict=True):
                shifted = {p - offset for p in flat[ptr[i]:ptr[i + 1]].tolist()}
                starts[doc] = shifted if doc not in starts else starts[doc] & shifted
        mask = np.zeros(self.size, bool)
        mask[[doc for doc, found in starts.items() if found]] = True
        score = np.zeros(self.size, np.float32)
        for docs, scores in parts:
            score[docs] += scores
        score[~mask] = 0
        return mask, score

    def _and(self, node):
        mask, score = None, None
        for item in sorted(node.items, key=lambda n: isinstance(n, Not)):
            if isinstance(item, Not):
                other, _ = self.node(item.item)
                mask = ~other if mask is None else mask & ~other
                continue
            other, other_score = self.node(item)
            mask = other if mask is None else mask & other
            score = other_score if score is None else score if other_score is None else score + other_score
        return mask, None if score is None else np.where(mask, score, np.float32(0))

    def _or(self, node):
        mask, score = None, None
        for item in node.items:
            other, other_score = self.node(item)
            mask = other if mask is None else mask | other
            score = other_score if score is None else score if other_score is None else score + other_score
        return mask, score


TREES = ["oil", "oil prices", '"interest rates"', '"stock exchange" OR "money supply"', '"new york stock exchange"',
         "opec -saudi", "econom*", "coffee OR brazil OR cocoa", "(oil OR gas) -(saudi OR iran) prices", "title:gold",
         "wheat AND NOT corn OR barley", '"trade deficit" japan', "st?rms OR harb*", "-oil", "zzzznotaword OR oil",
         "merger talks OR (bid AND stake)"]


@pytest.mark.parametrize("q", TREES)
def test_evaluation_in_place_equals_the_plain_evaluation(engine, q):
    gen = engine.generation()
    tree = qparse.parse(q).tree
    mask, score = Evaluator(gen.postings, Deadline(60)).run(tree)
    reference_mask, reference_score = ReferenceEvaluator(gen.postings, Deadline(60)).run(tree)
    assert mask.any() or q == "zzzznotaword"
    assert np.array_equal(mask, reference_mask)
    assert score.tobytes() == reference_score.tobytes()  # bit for bit: same sums in the same order


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
@pytest.mark.parametrize("q", ["shares", "", "oil prices"])
def test_order_prefixes_equal_a_full_sort_of_the_hits(engine, q, sort):
    """``order(k)`` (a partial sort, its prefix kept for the next k) is the head of the fully sorted hits."""
    gen = engine.generation()
    params = SearchParams.from_mapping({"q": q, "sort": sort})
    hit_set = HitSet(gen, params, qparse.parse(q), Deadline(60))
    hits = hit_set.hits
    dates, scores = gen.columns.date[hits], -hit_set.score[hits].astype(np.float64)
    dated = dates != NO_DATE
    newest = np.where(dated, -dates.astype(np.float64), np.inf)
    oldest = np.where(dated, dates.astype(np.float64), np.inf)
    keys = {"relevance": (scores, newest), "newest": (newest, scores), "oldest": (oldest, scores)}
    primary, secondary = keys["newest" if sort == "relevance" and not scores.any() else sort]
    ordered = hits[np.lexsort((hits, secondary, primary))]
    for k in (10, 40, 160, 1000, 10, len(hits) + 5):
        assert hit_set.order(k).tolist() == ordered[:k].tolist(), k


def test_date_filter_by_the_sorted_dates_equals_comparing_every_date(engine):
    gen = engine.generation()
    dates = gen.columns.local
    dated = np.sort(dates[dates != NO_DATE])
    some = [int(dated[0]), int(dated[len(dated) // 3]), int(dated[len(dated) // 2]), int(dated[-1])]
    bounds = [None, *some, some[1] + 1, some[-1] + 86400, int(dated[0]) - 86400]
    for start in bounds:
        for end in bounds:
            assert np.array_equal(gen.date_order.mask(start, end), date_mask(dates, start, end)), (start, end)
    undated = np.array([NO_DATE, 5, 3, NO_DATE, 9, 5], np.int64)  # undated docs never match a date filter
    for start in (None, 2, 3, 5, 6, 10):
        for end in (None, 2, 3, 5, 9):
            assert np.array_equal(DateOrder(undated).mask(start, end), date_mask(undated, start, end)), (start, end)


@pytest.mark.parametrize("unit", ["M", "Y"])
def test_calendar_units_by_the_days_spanned_equal_numpys_conversion(engine, unit):
    from search.query.histogram import _calendar_units

    days = engine.generation().columns.local // 86400
    days = days[engine.generation().columns.local != NO_DATE]
    for sample in (days, days[:7], np.array([-800, 0, 59, 60, 365, 10957, 10958, 20000] * 50, np.int64)):
        reference = sample.astype("datetime64[D]").astype(f"datetime64[{unit}]").astype(np.int64)
        assert np.array_equal(_calendar_units(sample, unit), reference)
