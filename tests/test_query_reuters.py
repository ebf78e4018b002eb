"""Query engine on the real Reuters-21578 collection: counts checked against the SGML, rankings that make sense."""

from __future__ import annotations

import gzip
import re
from collections import Counter

import pytest
from conftest import reuters_files

from search.query.engine import SearchEngine
from search.query.params import SearchParams

pytestmark = pytest.mark.slow

_RECORD_RE = re.compile(r"<REUTERS\b.*?</REUTERS>", re.DOTALL)
_MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}


def _categories(record: str, tag: str) -> list[str]:
    block = re.search(rf"<{tag}>(.*?)</{tag}>", record, re.DOTALL)
    return re.findall(r"<D>(.*?)</D>", block.group(1)) if block else []


@pytest.fixture(scope="module")
def sgml() -> list[dict]:
    """Every record's categories and month, read independently of the project's reader."""
    records = []
    for path in reuters_files():
        text = gzip.decompress(path.read_bytes()).decode("latin-1")
        for record in _RECORD_RE.findall(text):
            date = re.search(r"<DATE>\s*(\d+)-([A-Z]{3})-(\d{4})", record)
            records.append({
                "places": set(_categories(record, "PLACES")),
                "topics": set(_categories(record, "TOPICS")),
                "people": set(_categories(record, "PEOPLE")),
                "month": (int(date.group(3)), _MONTHS[date.group(2)]) if date else None,
            })
    return records


@pytest.fixture(scope="module")
def engine(reuters_index) -> SearchEngine:
    return SearchEngine(reuters_index, time_budget_s=30)


def search(engine, q="", **params) -> dict:
    return engine.search(SearchParams.from_mapping({"q": q, **params}))


def counts(answer: dict, name: str) -> dict[str, int]:
    return {item["value"]: item["count"] for item in answer["facets"][name]}


def test_filter_total_and_facets_match_the_sgml(engine, sgml):
    answer = search(engine, places=["usa"], topics=["grain"], per_page=1)
    usa = [r for r in sgml if "usa" in r["places"]]
    assert answer["total"] == sum("grain" in r["topics"] for r in usa)
    expected_topics = Counter(t for r in usa for t in r["topics"])  # disjunctive: ignores the topics filter
    for value, count in counts(answer, "topics").items():
        assert count == expected_topics[value], value
    expected_places = Counter(p for r in sgml if "grain" in r["topics"] for p in r["places"])
    for value, count in counts(answer, "places").items():
        assert count == expected_places[value], value
    assert counts(answer, "places")["usa"] == expected_places["usa"]


def test_people_or_within_a_facet(engine, sgml):
    answer = search(engine, people=["reagan", "james-baker"])
    assert answer["total"] == sum(bool(r["people"] & {"reagan", "james-baker"}) for r in sgml)


def test_date_filter_matches_the_sgml(engine, sgml):
    answer = search(engine, **{"from": "1987-03", "to": "1987-03"})
    assert answer["total"] == sum(r["month"] == (1987, 3) for r in sgml)
    assert answer["histogram"]["interval"] == "day"
    assert sum(b["count"] for b in answer["histogram"]["buckets"]) == answer["total"]


def test_whole_collection_facets(engine, sgml):
    answer = search(engine, per_page=1)
    assert answer["total"] == len(sgml)
    assert counts(answer, "year") == {"1987": len(sgml)}
    expected = Counter(t for r in sgml for t in r["topics"])
    assert counts(answer, "topics") == dict(expected.most_common(20)) or \
        all(expected[v] == c for v, c in counts(answer, "topics").items())


@pytest.mark.parametrize("q, title_words", [
    ("coffee brazil", {"COFFEE"}),
    ('"interest rates" japan', {"JAPAN", "INTEREST"}),
    ("opec output", {"OPEC"}),
    ("wheat ussr", {"WHEAT", "USSR", "SOVIET", "GRAIN"}),
])
def test_top_results_are_sensible(engine, q, title_words):
    answer = search(engine, q, per_page=5)
    assert answer["total"] > 5
    for result in answer["results"]:
        assert any(w in result["title"].upper() for w in title_words), result["title"]
        assert "<mark>" in result["snippet"]


def test_phrase_is_stricter_than_words(engine):
    words = search(engine, "stock exchange")["total"]
    phrase = search(engine, '"stock exchange"')["total"]
    assert 0 < phrase < words


def test_suggestion_on_reuters(engine):
    assert search(engine, "cofee prices")["suggestion"] == "coffee prices"
    assert search(engine, "coffee prices")["suggestion"] is None


def test_related_articles_share_topics(engine):
    top = search(engine, "coffee quotas", per_page=1)["results"][0]
    related = engine.related(top["id"], limit=5)
    assert len(related) == 5
    assert top["id"] not in {r["id"] for r in related}
    assert sum("coffee" in r["topics"] for r in related) >= 4


def test_queries_are_fast_when_warm(engine):
    params = SearchParams.from_mapping({"q": "oil prices", "places": ["usa"]})
    engine.search(params)
    took = min(engine.search(params)["took_ms"] for _ in range(3))
    assert took < 200  # generous: a shared CI machine; the benchmark measures properly
