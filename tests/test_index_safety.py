"""Carrying stored articles into a rebuild, and telling a damaged generation from a bug."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from search.index import integrity, writer
from search.index.carry import CARRIED_FORMAT, carried_articles
from search.model import Article


def _article(n: int, path: str) -> Article:
    return Article(body=f"Body {n} about harbours.", title=f"Title {n}", id=f"a{n}", content_hash=f"h{n}",
                   date=datetime(2024, 3, 1, 22, 30, tzinfo=UTC), utc_offset=-300, source="Wire",
                   url=f"https://example.org/{n}", authors=["Ann Lee"], people=["Bo Kim", "Cy Ng"], orgs=["Board"],
                   places=["Kiel"], topics=["shipping"], path=path)


def test_carried_articles_are_the_stored_ones_and_need_no_extraction(tmp_path: Path):
    articles = [_article(1, "/src/a.jsonl"), _article(2, "/src/a.jsonl"), _article(3, "/src/b.jsonl")]
    writer.write_all(tmp_path, articles, procs=1)
    carried = sorted(carried_articles(tmp_path, ["/src/a.jsonl", "/src/gone.jsonl"]), key=lambda a: a.id)
    assert [a.id for a in carried] == ["a1", "a2"]
    same = ("body", "title", "id", "content_hash", "date", "utc_offset", "source", "url", "authors", "people",
            "orgs", "places", "topics", "path")
    for got, want in zip(carried, articles, strict=False):
        assert {k: getattr(got, k) for k in same} == {k: getattr(want, k) for k in same}
        assert got.format == CARRIED_FORMAT and not got.needs_entities  # found already: nothing is extracted
        assert got.given == want.given and got.line == want.line  # what dedupe weighs and orders copies by
    assert carried_articles(None, ["/src/a.jsonl"]) == []
    assert {f.name for f in dataclasses.fields(Article)} >= set(same)


@pytest.mark.parametrize("damage", ["truncate", "toc"])
def test_a_damaged_generation_is_named_and_a_sound_one_passes(tmp_path: Path, damage: str):
    generation = tmp_path / "g000007"
    generation.mkdir()
    writer.write_all(generation, [_article(1, "/src/a.jsonl")], procs=1)
    integrity.check(generation)
    bug = ValueError("a bug elsewhere")
    assert integrity.diagnose(generation, bug) is bug
    for path in generation.glob("*.seg" if damage == "truncate" else "*.toc"):
        if damage == "truncate":
            path.write_bytes(path.read_bytes()[:100])
        else:
            path.write_bytes(b"garbage")
    found = integrity.diagnose(generation, bug)
    assert isinstance(found, integrity.CorruptGeneration) and "generation g000007 is corrupt" in str(found)
