"""The JSON answers of the query API (DESIGN.md "JSON"), written as types, and the fields of one result.

The engine builds plain dicts — they go straight to ``json.dumps`` and the templates — and these
TypedDicts say which keys they carry, so the shape is read and changed in one place
(tests/test_query.py checks a real answer against them). No ``from __future__ import annotations``
here: on Python 3.11 it hides ``NotRequired`` from ``__optional_keys__``.
"""

import time
from typing import Literal, NotRequired, TypedDict

from search.dates import publisher_day
from search.facets import FILTER_FACETS
from search.query.params import SearchParams

_ISO = "%Y-%m-%dT%H:%M:%SZ"
_DAY = "%Y-%m-%d"

Interval = Literal["year", "month", "week", "day"]


class Summary(TypedDict):
    """What every listed article shows: display values exactly as ingested."""

    id: str
    title: str
    date: str | None  # the UTC instant, "2025-09-05T00:00:00Z"; None when undated
    day: str | None  # the publisher's calendar day, "2025-09-05": the date in the zone the source stated
    source: str
    url: str
    authors: list[str]
    people: list[str]
    orgs: list[str]
    places: list[str]
    topics: list[str]


class Result(Summary):
    score: float
    snippet: NotRequired[str]  # HTML: everything escaped except <mark>; not in exports or related articles
    cluster: NotRequired[str]  # the story cluster (near-duplicates) it belongs to; search results only
    similar: NotRequired[int]  # other articles of that cluster among the hits


class ArticlePage(Summary):
    body: str
    paragraphs: list[str]


class FacetCount(TypedDict):
    value: str
    count: int
    label: NotRequired[str]  # the readable name of a coded value (``money-fx`` → "Money/Foreign Exchange")


class Bucket(TypedDict):
    start: str  # the bucket's first day, "2025-09-01"
    count: int


class Histogram(TypedDict):
    interval: Interval
    buckets: list[Bucket]


# The echo of the filters as understood: dates as the first and last day they cover, facet values as given.
Filters = TypedDict("Filters", {"from": str | None, "to": str | None, "people": list[str], "orgs": list[str],
                                "places": list[str], "source": list[str], "topics": list[str]})


class SearchAnswer(TypedDict):
    query: str
    total: int  # every hit, not just this page
    collapsed_total: int  # results the list holds: one per story cluster unless collapse=0
    page: int
    per_page: int
    took_ms: float
    filters: Filters
    results: list[Result]
    facets: dict[str, list[FacetCount]]  # each of FILTER_FACETS, and "year": the top values
    facet_values: dict[str, int]  # how many distinct values each facet has over the whole hit set
    ignored_words: list[str]  # typed words the index cannot match (stop words, single letters, symbols)
    no_searchable_words: bool  # every typed word was ignored: the query matches nothing, and says so
    histogram: Histogram
    suggestion: str | None
    partial: bool  # the time budget ran out: counts and results may be incomplete
    generation: int  # the index generation that answered


class Health(TypedDict):
    status: Literal["ok", "no index", "broken"]
    documents: int
    generation: int | None
    broken: NotRequired[str]  # the name of the live generation that cannot be opened (g000007)
    error: NotRequired[str]


def filters_echo(params: SearchParams) -> Filters:
    start, end = params.date_range()
    return {
        "from": time.strftime(_DAY, time.gmtime(start)) if start is not None else None,
        "to": time.strftime(_DAY, time.gmtime(end)) if end is not None else None,
        **{name: list(getattr(params, name)) for name in FILTER_FACETS},  # type: ignore[typeddict-item]
    }


def describe(stored: dict) -> Summary:
    """The result fields of one stored document (display values exactly as ingested)."""
    data = stored.get("data") or {}
    date = stored.get("date")
    return {
        "id": stored.get("id", ""),
        "title": stored.get("title") or "",
        "date": date.strftime(_ISO) if date is not None else None,
        "day": publisher_day(date, int(data.get("utc_offset") or 0)).isoformat() if date is not None else None,
        "source": data.get("source") or "",
        "url": data.get("url") or "",
        "authors": list(data.get("authors") or []),
        "people": list(data.get("people") or []),
        "orgs": list(data.get("orgs") or []),
        "places": list(data.get("places") or []),
        "topics": list(data.get("topics") or []),
    }
