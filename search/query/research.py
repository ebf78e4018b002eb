"""Research views over the query engine: entity pages and attention over time (DESIGN.md "Research views").

Both reuse the search's hit set (same parameters, same filters), so an entity page's total
equals ``/api/search`` with that value as a filter, and its co-occurrence counts equal the
facet counts of that search.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from search.facets import FILTER_FACETS
from search.query import collapse, cooccur
from search.query import parse as qparse
from search.query.engine import SearchEngine
from search.query.errors import QueryError
from search.query.evaluate import Deadline, Evaluator
from search.query.histogram import histogram
from search.query.hits import HitSet
from search.query.params import SearchParams
from search.query.timeline import INTERVALS, MAX_SERIES, MEASURES, timeline

ENTITY_ARTICLES = 10  # latest and most relevant articles listed on an entity page
_NOT_WORD_RE = re.compile(r"[^\w\s]")
COOCCUR_FACETS = tuple(name for name in FILTER_FACETS if name != "source")  # sources are listed by count


class UnknownValue(LookupError):
    """The facet has no such value anywhere in the live generation."""


def with_value(params: SearchParams, facet: str, value: str) -> SearchParams:
    """The search narrowed to one facet value (kept once if already selected)."""
    values = [v for v in getattr(params, facet) if v.casefold() != value.casefold()]
    return dataclasses.replace(params, **{facet: [*values, value]})


def without_value(params: SearchParams, facet: str, value: str) -> SearchParams:
    values = [v for v in getattr(params, facet) if v.casefold() != value.casefold()]
    return dataclasses.replace(params, **{facet: values})


def entity(engine: SearchEngine, facet: str, value: str, params: SearchParams) -> dict:
    """One facet value within the current search: total, histogram, co-occurring values, sources, articles."""
    if facet not in FILTER_FACETS:
        raise QueryError(f"no entity pages for '{facet}' (one of {', '.join(FILTER_FACETS)})")
    gen = engine.generation()
    own = gen.columns.facets[facet].ids_for([value])
    if not len(own):
        raise UnknownValue(f"no {facet} value '{value[:80]}' in the archive")
    label = gen.labels.label
    deadline = Deadline(engine.time_budget_s)
    parsed = qparse.parse(params.q)
    run = HitSet(gen, with_value(params, facet, value), parsed, deadline)
    background = HitSet(gen, without_value(params, facet, value), parsed, deadline)
    cols = gen.columns
    n, total = int(len(run.hits)), int(len(background.hits))
    cooccurring = {}
    for name in COOCCUR_FACETS:
        values = cols.facets[name]
        counted = values.count(run.hits, run.mask)
        back = values.count(background.hits, background.mask)
        cooccurring[name] = cooccur.cooccurring(values, counted, n, back, total,
                                                exclude=own if name == facet else None,
                                                label=lambda v, name=name: label(name, v))
    sources = cols.facets["source"]
    source_counts = sources.count(run.hits, run.mask)
    top = np.argsort(-source_counts, kind="stable")[:cooccur.LIMIT]
    shown = str(cols.facets[facet].vocab[own[0]])
    return {
        "facet": facet,
        "value": shown,
        "label": label(facet, shown),
        "total": n,
        "background": total,
        "histogram": histogram(cols.local[run.hits]),  # by the publisher's day, as the search's
        "cooccurring": cooccurring,
        "sources": [{"value": str(sources.vocab[i]), "label": label("source", str(sources.vocab[i])),
                     "count": int(source_counts[i])}
                    for i in top.tolist() if source_counts[i]],
        "articles": _ranked(run, _entity_boost(gen, shown, deadline), ENTITY_ARTICLES),
        "latest": [run.result(int(d), snippet=False) for d in _ordered(run, "newest", ENTITY_ARTICLES)],
        "generation": gen.number,
    }


def _entity_boost(gen, value: str, deadline: Deadline) -> np.ndarray | None:
    """Scores of the value's own words in title and body: articles about it, not merely tagged with it."""
    words = _NOT_WORD_RE.sub(" ", value).split()
    if not words:
        return None
    tree = qparse.parse('"' + " ".join(words) + '"').tree
    return Evaluator(gen.postings, deadline).run(tree)[1] if tree is not None else None


def _ranked(run: HitSet, boost: np.ndarray | None, k: int) -> list[dict]:
    """Most relevant: the query's own score plus how much the article is about the value."""
    if boost is not None:
        run.score = run.score + boost
    docs = _ordered(run, "relevance", k)
    return [run.result(int(d), snippet=False) for d in docs]


def _ordered(run: HitSet, sort: str, k: int) -> np.ndarray:
    """The first ``k`` hits in this order, one per story cluster (the wire story once, not forty times)."""
    saved = run.params.sort
    run.params = dataclasses.replace(run.params, sort=sort)
    try:
        return collapse.collapsed_order(run.order, len(run.hits), run.gen.clusters.cluster, k)
    finally:
        run.params = dataclasses.replace(run.params, sort=saved)


# -- timeline ------------------------------------------------------------------------------------------
def series_params(pairs: list[tuple[str, str]]) -> list[SearchParams]:
    """One SearchParams per ``q`` (up to MAX_SERIES), from the request's parameters in their order.

    Parameters before the first ``q`` apply to every series; those after a ``q`` (up to the
    next) to that series only — so ``?from=1987-03&q=oil&places=iran&q=oil&places=iraq`` compares
    two places, and a form with one row per series says the same.
    """
    shared: list[tuple[str, str]] = []
    groups: list[list[tuple[str, str]]] = []
    for key, value in pairs:
        if key == "q":
            groups.append([("q", str(value))])
        elif groups:
            groups[-1].append((key, value))
        else:
            shared.append((key, value))
    groups = [g for g in groups if g[0][1].strip() or len(g) > 1] or [[("q", "")]]
    if len(groups) > MAX_SERIES:
        raise QueryError(f"at most {MAX_SERIES} queries on one timeline")
    return [SearchParams.from_mapping(_multi(shared + group)) for group in groups]


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def check_interval(interval: str | None) -> str | None:
    if interval and interval not in INTERVALS:
        raise QueryError(f"interval must be one of {', '.join(INTERVALS)} (got '{interval[:20]}')")
    return interval or None


def check_measure(measure: str | None) -> str:
    measure = measure or "count"
    if measure not in MEASURES:
        raise QueryError(f"measure must be one of {', '.join(MEASURES)} (got '{measure[:20]}')")
    return measure


def attention(engine: SearchEngine, series: list[SearchParams], interval: str | None = None,
              measure: str = "count") -> dict:
    """``{"interval", "measure", "series": [{"query", "total", "buckets": [{"start", "count", "share"}]}]}``."""
    gen = engine.generation()
    deadline = Deadline(engine.time_budget_s)
    runs = [HitSet(gen, params, qparse.parse(params.q), deadline) for params in series]
    cols = gen.columns
    out = timeline(cols.local[cols.live], [cols.local[run.hits] for run in runs], check_interval(interval))
    for params, run, item in zip(series, runs, out["series"], strict=True):
        item["query"] = params.q
        item["filters"] = _multi([(k, v) for k, v in params.to_query_args() if k != "q"])
        item["total"] = int(len(run.hits))
    return {"interval": out["interval"], "measure": check_measure(measure), "series": out["series"],
            "generation": gen.number}


# -- saved searches ------------------------------------------------------------------------------------
def hit_ids(engine: SearchEngine, params: SearchParams) -> list[str]:
    """The id of every article the search matches (for saved searches), in doc order."""
    gen = engine.generation()
    run = HitSet(gen, params, qparse.parse(params.q), Deadline(engine.time_budget_s * 10))
    ids = getattr(gen.columns, "ids", None)
    if ids is not None:
        return ids[run.hits].tolist()
    return [gen.stored(int(doc)).get("id", "") for doc in run.hits.tolist()]
