"""The query's fast paths give exactly what the plain paths give, on the real Reuters collection:
facet counts from the code matrix (``facetcount``) against per-facet pair counting (``Facet.count``),
snippets cut from the cached ``SnippetText`` against snippets of the raw stored text."""

from __future__ import annotations

import numpy as np
import pytest

from search.query import parse as qparse
from search.query.engine import SearchEngine
from search.query.evaluate import Deadline
from search.query.hits import HitSet
from search.query.params import SearchParams
from search.query.snippets import Highlighter

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
