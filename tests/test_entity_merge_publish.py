"""The archive alias map where values are read: facet counts, filters and displayed values after publish."""

from __future__ import annotations

import gzip
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from conftest import REUTERS_DIR, needs_shared
from test_query import publish

from search.index import entity_merge
from search.ingest.entities import EntityExtractor
from search.ingest.entities.annotate import entity_text
from search.ingest.formats.reuters import read_reuters
from search.model import Article
from search.query.engine import SearchEngine
from search.query.params import SearchParams


def _article(i: int, people: list[str], year: int = 1987) -> Article:
    return Article(id=f"r{i}", title=f"Budget talks {i}", body="The budget was discussed again.", source="Wire",
                   date=datetime(year, 3, 1 + i, tzinfo=UTC), people=people)


@pytest.fixture
def engine(tmp_path) -> SearchEngine:
    articles = [_article(0, ["Ronald Reagan"]), _article(1, ["Reagan"]), _article(2, ["REAGAN"]),
                _article(3, ["Reagan", "Ronald Reagan"]), _article(4, ["George Bush"]), _article(5, ["Barbara Bush"]),
                _article(6, ["Bush"])]
    publish(tmp_path / "index", articles)
    return SearchEngine(tmp_path / "index")


def _search(engine, **params):
    return engine.search(SearchParams.from_mapping({"q": "", **params}))


def test_facet_counts_one_value_per_person(engine):
    people = {f["value"]: f["count"] for f in _search(engine)["facets"]["people"]}
    assert people["Ronald Reagan"] == 4
    assert not {"Reagan", "REAGAN"} & set(people)
    assert people["Bush"] == 1  # two Bushes in 1987: the bare surname stays apart


def test_filter_on_the_full_name_finds_articles_stored_with_the_surname(engine):
    found = _search(engine, people="Ronald Reagan")["results"]
    assert sorted(r["id"] for r in found) == ["r0", "r1", "r2", "r3"]
    assert all(r["people"] == ["Ronald Reagan"] for r in found)  # displayed under the canonical name
    assert sorted(r["id"] for r in _search(engine, people="Reagan")["results"]) == ["r0", "r1", "r2", "r3"]


def test_article_page_shows_the_canonical_name(engine):
    assert engine.article("r2")["people"] == ["Ronald Reagan"]


def test_alias_map_saved_in_the_generation(engine, tmp_path):
    live = sorted(p for p in (tmp_path / "index").iterdir() if (p / entity_merge.FILENAME).exists())
    assert live, "publish writes aliases.json into the generation"
    assert entity_merge.load(live[-1])["people"]["REAGAN"] == ["people", "Ronald Reagan"]
    counts = entity_merge.load_counts(live[-1])
    assert counts["people"][("Reagan", "1987")] == 2


@pytest.mark.slow
@pytest.mark.model
@needs_shared
def test_reuters_people_extracted_without_tags_merge_to_one_value(tmp_path):
    """Reuters-21578 (one file) with its PEOPLE tags removed: each tagged person gets about one value."""
    path = REUTERS_DIR / "reut2-000.sgm.gz"
    with gzip.open(path) as fh:
        tagged = [a for a in read_reuters(str(path), fh.read()) if isinstance(a, Article) and a.people][:150]
    texts = [entity_text(a) for a in tagged]
    with EntityExtractor(tmp_path / "c.sqlite") as ex:
        found = list(ex.extract_many((str(i), t) for i, t in enumerate(texts)))
    maps = entity_merge.alias_maps(entity_merge.counts_of(found, ["1987"] * len(found)))
    merged = [entity_merge.apply(maps, f) for f in found]
    values = defaultdict(set)
    for article, f in zip(tagged, merged, strict=True):
        for tag in article.people:
            surname = tag.split("-")[-1]
            values[tag] |= {v for v in f["people"] if v.split()[-1].casefold() == surname}
    per_tag = [len(v) for v in values.values() if v]
    assert sum(per_tag) / len(per_tag) <= 1.2
    assert values["reagan"] <= {"Ronald Reagan", "Nancy Reagan"} and "Ronald Reagan" in values["reagan"]
