"""Integration on the real material in ../shared: the seed article and all of Reuters-21578."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import SEED_ARTICLE, needs_shared, reuters_files

from search.build import BuildOptions, rebuild
from search.index.generations import IndexHome
from search.index.writer import open_index

pytestmark = [pytest.mark.slow, needs_shared]


def all_stored(index_root: Path) -> list[dict]:
    with open_index(IndexHome(index_root).require_live()).searcher() as searcher:
        return list(searcher.reader().all_stored_fields())


def sgml_category_counts() -> dict[str, Counter]:
    """Articles per category value, counted straight from the SGML with a regex, independently of the reader.

    A few records list a value twice (``<D>corn</D><D>corn</D>``): a facet counts articles, so once.
    """
    counts = {name: Counter() for name in ("topics", "places", "people", "orgs")}
    for path in reuters_files():
        text = gzip.decompress(path.read_bytes()).decode("latin-1")
        for name in counts:
            for element in re.findall(rf"<{name.upper()}>(.*?)</{name.upper()}>", text, re.S):
                counts[name].update(set(re.findall(r"<D>(.*?)</D>", element)))
    return counts


def test_reuters_every_article_indexed_with_given_categories(reuters_index: Path):
    stored = all_stored(reuters_index)
    assert len(stored) == 21578
    assert len({doc["id"] for doc in stored}) == 21578
    assert sum(1 for doc in stored if doc.get("date") is None) == 0
    indexed = {name: Counter() for name in ("topics", "places", "people", "orgs")}
    for doc in stored:
        for name, counter in indexed.items():
            counter.update(doc["data"][name])
    expected = sgml_category_counts()
    for name in indexed:
        assert indexed[name] == expected[name], name
    assert sum(1 for doc in stored if doc["data"]["places"]) == 18798  # SOURCE.md: records with PLACES


def test_reuters_dates_in_collection_range(reuters_index: Path):
    dates = sorted(doc["date"] for doc in all_stored(reuters_index))
    assert dates[0].isoformat() == "1987-02-26T15:01:01"
    assert (dates[0].year, dates[-1].year) == (1987, 1987) and dates[-1].month == 10


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("seed") / "index"
    report = rebuild(IndexHome(root), [str(SEED_ARTICLE.parent)], BuildOptions())
    assert report.articles == 1 and not report.rejected
    return root


def raw_paragraphs() -> list[str]:
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def test_seed_article_date_title_and_clean_body(seed_index: Path):
    [doc] = all_stored(seed_index)
    assert doc["date"].isoformat() == "2025-09-05T00:00:00"
    body = doc["body"]
    paragraphs = raw_paragraphs()
    appeal = paragraphs[0].split(" ", 2)[2]  # the text on the date line is the donation appeal
    assert appeal[:60] not in body
    captions = [p for p in paragraphs if p.lower().startswith("open image in gallery")]
    assert len(captions) == 3
    assert not any(c[:50] in body for c in captions)
    assert "( AP )" not in body and "open image in gallery" not in body.lower()
    real_first = paragraphs[1]
    assert body.startswith(real_first[:80])
    first_words = " ".join(real_first.split()[:6])
    assert doc["title"].startswith(first_words) and len(doc["title"]) <= 111  # first sentence, shortened
    assert len(body.split("\n\n")) == len(paragraphs) - 1 - len(captions)


@pytest.mark.model
def test_seed_article_entities_are_canonical(seed_index: Path):
    [doc] = all_stored(seed_index)
    data = doc["data"]
    assert {"Vladimir Putin", "Donald Trump", "Emmanuel Macron", "Volodymyr Zelensky"} <= set(data["people"])
    assert "Putin" not in data["people"] and "Trump" not in data["people"]
    assert "Ukraine" in data["places"]
    assert "Nato" in data["orgs"]
