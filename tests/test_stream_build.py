"""A bounded build answers exactly like an unbounded one: dedupe's choice, stored documents, facets and hits."""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path

import pytest
from cluster_check import cluster_sets
from conftest import needs_shared, reuters_files

from search.cli import main
from search.index import writer
from search.index.generations import IndexHome
from search.ingest.batches import ArticleStream
from search.ingest.boilerplate import RepeatedParagraphs
from search.ingest.dedupe import StreamDedupe, dedupe
from search.ingest.normalise import normalise
from search.ingest.prepare import prepare
from search.ingest.read import read_one
from search.ingest.rejections import RejectionLog
from search.model import Article
from search.query.engine import SearchEngine
from search.query.params import SearchParams


def _tangled(seed: int, count: int = 400) -> list[Article]:
    """Articles whose ids, URLs, paths and weights collide often: every rule of ``dedupe`` gets exercised."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        out.append(normalise(Article(
            body="word " * rng.randint(1, 4), title=rng.choice(["", "t", "tt"]), id=f"i{rng.randint(0, 150)}",
            url=rng.choice(["", "http://a/1", "http://a/2", f"http://b/{rng.randint(0, 60)}"]),
            path=f"/f{rng.randint(0, 5)}", line=n + 1,
        )))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_stream_dedupe_keeps_what_dedupe_keeps_in_its_order(seed):
    articles = _tangled(seed)
    keys = StreamDedupe()
    for start in range(0, len(articles), 37):  # batches of an odd size
        keys.add(articles[start:start + 37])
    positions, duplicates = keys.survivors()
    expected, expected_duplicates = dedupe(articles)
    assert [articles[i] for i in positions.tolist()] == expected
    assert duplicates == expected_duplicates


def test_stream_dedupe_of_nothing():
    positions, duplicates = StreamDedupe().survivors()
    assert len(positions) == 0 and duplicates == 0


def _seed_text(body: str) -> str:
    return f"date 2024-05-01 The paper\n\n{body}\n"


def test_boilerplate_counted_over_all_batches(tmp_path: Path):
    """A paragraph repeated once per batch is furniture only when counted over the whole run."""
    furniture = "Support our journalism with a monthly gift to keep this newsroom going strong."
    paths = []
    for n in range(4):
        path = tmp_path / f"{n}.txt"
        path.write_text(_seed_text(f"Story number {n} says something distinct about item {n}.\n\n{furniture}"))
        paths.append(path)
    records = [read_one(p) for p in paths]
    raw = [a for r in records for a in r.items if isinstance(a, Article)]
    expected = prepare(raw, RepeatedParagraphs(), [])
    stream = ArticleStream(tmp_path / "scratch", batch_articles=1)
    repeated = RepeatedParagraphs()
    rejected = RejectionLog(lambda line: None)
    stream.read([read_one(p) for p in paths], rejected, repeated)
    stream.prepare(repeated, rejected)
    got = [a for batch in stream.final(tmp_path / "cache.sqlite", extract=False) for a in batch]
    assert got == expected and len(got) == 4 and len(rejected) == 0
    assert all(furniture not in a.body for a in got)


def _reuters_slice(folder: Path, files: int = 2, keep: int = 150) -> Path:
    """The first ``keep`` articles of each of the first Reuters files, plus one file repeating some of them."""
    folder.mkdir()
    for path in reuters_files()[:files]:
        text = gzip.decompress(path.read_bytes()).decode("latin-1")
        parts = re.split(r"(?=<REUTERS )", text)
        (folder / path.name.removesuffix(".gz")).write_text("".join(parts[:keep + 1]), encoding="latin-1")
    first = gzip.decompress(reuters_files()[0].read_bytes()).decode("latin-1")
    (folder / "zz-again.sgm").write_text("".join(re.split(r"(?=<REUTERS )", first)[:40]), encoding="latin-1")
    return folder


def _answers(index: Path) -> dict:
    engine = SearchEngine(index)
    out = {}
    for query in ["oil", "wheat prices", '"interest rates"', "bank OR dollar", ""]:
        params = SearchParams(q=query, collapse=False)
        answer = engine.search(params)
        hits = sorted((hit["id"], hit["score"]) for hit in engine.export(params))
        out[query] = (answer["total"], hits, answer["facets"], answer["histogram"], answer["suggestion"])
        assert answer["total"] == len(hits) > 0
    return out


def _documents(index: Path) -> list[dict]:
    with writer.open_index(IndexHome(index).require_live()).searcher() as searcher:
        return sorted(searcher.reader().all_stored_fields(), key=lambda d: d["id"])


def _segments(index: Path) -> int:
    with writer.open_index(IndexHome(index).require_live()).reader() as reader:
        return len(list(reader.leaf_readers()))


@needs_shared
def test_tiny_budget_builds_the_same_index_in_many_segments(tmp_path: Path, monkeypatch):
    sources = _reuters_slice(tmp_path / "src")
    assert main(["rebuild", "--no-entities", "--index", str(tmp_path / "one"), str(sources)]) == 0
    monkeypatch.setattr("search.ingest.batches.BATCH_ARTICLES", 45)
    monkeypatch.setattr("search.index.writer.MIN_DOCS_PER_WORKER", 10)
    monkeypatch.setattr("search.index.writer.segment_chars", lambda memory_mb, procs: 40_000)
    assert main(["rebuild", "--no-entities", "--memory-mb", "1", "--index", str(tmp_path / "many"),
                 str(sources)]) == 0
    assert _segments(tmp_path / "one") <= 2 < 4 <= _segments(tmp_path / "many")
    assert _documents(tmp_path / "many") == _documents(tmp_path / "one")
    assert _answers(tmp_path / "many") == _answers(tmp_path / "one")
    one, many = (cluster_sets(IndexHome(tmp_path / name).require_live()) for name in ("one", "many"))
    assert any(len(members) > 1 for members in one) and one == many


@needs_shared
def test_bounded_update_adds_segments_and_matches_a_rebuild(tmp_path: Path, monkeypatch):
    sources = _reuters_slice(tmp_path / "src")
    later = tmp_path / "later"
    later.mkdir()
    (sources / "zz-again.sgm").rename(later / "zz-again.sgm")
    third = sorted(sources.iterdir())[-1]
    third.rename(later / third.name)
    assert main(["rebuild", "--no-entities", "--index", str(tmp_path / "up"), str(sources)]) == 0
    before = _segments(tmp_path / "up")
    for path in later.iterdir():
        path.rename(sources / path.name)
    monkeypatch.setattr("search.index.writer.segment_chars", lambda memory_mb, procs: 40_000)
    assert main(["update", "--index", str(tmp_path / "up"), str(sources)]) == 0
    assert _segments(tmp_path / "up") >= before + 2  # 150 new articles, ~100 K characters
    assert main(["rebuild", "--no-entities", "--index", str(tmp_path / "full"), str(sources)]) == 0
    assert _documents(tmp_path / "up") == _documents(tmp_path / "full")
    assert _answers(tmp_path / "up") == _answers(tmp_path / "full")


def test_update_merges_small_segments_only(tmp_path: Path, monkeypatch):
    """Dozens of equal rebuild segments would make Whoosh's MERGE_SMALL rewrite most of them on one update."""
    monkeypatch.setattr("search.index.writer.SMALL_SEGMENT_DOCS", 5)
    articles = [normalise(Article(body=f"story {n} about wheat", id=f"a{n}", path=f"/f{n % 3}")) for n in range(240)]
    size = sum(writer.text_size(a) for a in articles[:8])
    writer.write_batches(tmp_path, [articles], len(articles), procs=1, chars=size)  # 30 segments of 8
    big = {s.segment_id() for s in writer.whoosh_internals.segments(writer.open_index(tmp_path))}
    for n in range(6):  # six small updates: MERGE_SMALL merges the small ones among themselves
        writer.apply_changes(tmp_path, [], [normalise(Article(body=f"extra {n}", id=f"x{n}", path="/x"))])
    after = {s.segment_id() for s in writer.whoosh_internals.segments(writer.open_index(tmp_path))}
    assert len(big) == 30 and big <= after and len(after) < 30 + 6
    with writer.open_index(tmp_path).searcher() as searcher:
        assert searcher.doc_count() == 246
