"""Segment-keyed caches: stored documents read with numpy offsets, and what survives a generation swap."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pytest
from whoosh.columns import VarBytesColumn
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile, StructFile

from search.index import columns, writer
from search.index.generations import IndexHome
from search.index.whoosh_internals import segment_id
from search.index.whoosh_internals import stored_extents as read_extents
from search.model import Article
from search.query.segcache import SegmentCache, nbytes
from search.query.stored import StoredDocs


def _articles(count: int, tag: str) -> list[Article]:
    return [Article(id=f"{tag}-{i}", title=f"Title {tag} {i}", body=f"Body number {i} of {tag}. " * (1 + i % 7),
                    date=datetime(1987, 3, 1 + i % 28, tzinfo=UTC), source="Wire", places=[f"p{i % 3}"],
                    path=f"/src/{tag}.jsonl", line=i + 1)
            for i in range(count)]


def _publish_first(home: IndexHome, articles: list[Article]):
    number, work = home.new_workdir()
    writer.write_all(work, articles, procs=1)
    columns.build(work)
    return home.publish(number, work)


def _publish_update(home: IndexHome, articles: list[Article]):
    """What ``update`` does: hard-link the live generation, add/replace by id (a new segment), publish."""
    live = home.require_live()
    number, work = home.new_workdir()
    writer.link_copy(live, work)
    writer.apply_changes(work, [], articles)
    columns.build(work)
    return home.publish(number, work)


def _reader(path):
    return FileStorage(str(path), supports_mmap=False).open_index().reader()


@pytest.fixture
def two_generations(tmp_path):
    home = IndexHome(tmp_path / "index")
    first = _publish_first(home, _articles(300, "a"))
    changed = _articles(5, "a")  # replaces five documents of the first segment (deletions there)
    second = _publish_update(home, [a.replace(body=a.body + " changed") for a in changed] + _articles(40, "b"))
    return first, second


def test_stored_docs_equal_whoosh_in_every_segment(two_generations):
    for path in two_generations:
        reader = _reader(path)
        stored = StoredDocs(reader, SegmentCache())
        assert [stored.get(d) for d in range(reader.doc_count_all())] == \
            [reader.stored_fields(d) for d in range(reader.doc_count_all())]


@pytest.mark.parametrize("cutoff", [2**15, 4])  # Whoosh writes an offsets array only above the cutoff
def test_extents_match_whoosh_column_reader(cutoff):
    values = [b"x" * (i % 5) * 300 for i in range(40)]  # empty ones too, and lengths beyond one byte
    column = VarBytesColumn(write_offsets_cutoff=cutoff)
    buffer = io.BytesIO()
    out = column.writer(StructFile(buffer))
    for docnum, value in enumerate(values):
        out.add(docnum, value)
    out.finish(len(values))
    data = buffer.getvalue()
    whoosh = column.reader(BufferFile(data), 0, len(data), len(values))
    offsets, lengths = read_extents(BufferFile(data), 0, len(data), len(values))
    assert whoosh.had_stored_offsets == (cutoff == 4)
    assert lengths.tolist() == list(whoosh._lengths) == [len(v) for v in values]
    assert offsets.tolist() == list(whoosh._offsets)


def test_swap_reuses_the_old_segments(two_generations):
    first, second = two_generations
    cache = SegmentCache()
    old = StoredDocs(_reader(first), cache)
    old.get(0)
    misses = cache.misses
    new = StoredDocs(_reader(second), cache)
    shared = {leaf.segid for leaf in old.leaves} & {leaf.segid for leaf in new.leaves}
    assert shared, "the update must keep the first generation's segment"
    old_leaf = next(leaf for leaf in new.leaves if leaf.segid in shared)
    new.get(old_leaf.base)  # doc 0 of the shared segment: cached document, no decode
    assert cache.misses == misses
    fresh = next(leaf for leaf in new.leaves if leaf.segid not in shared)
    new.get(fresh.base)
    assert cache.misses == misses + 2  # the document and the new segment's extents
    assert {segment_id(s) for s, _ in _reader(second).leaf_readers()} <= cache.segments() | {fresh.segid}


def test_cache_is_bounded_by_bytes():
    cache = SegmentCache(max_bytes=10_000)
    for i in range(50):
        cache.get(("seg", i), lambda: np.zeros(1000, np.uint8))
    assert cache.size_bytes <= 10_000
    assert ("seg", 49) in cache._items and ("seg", 0) not in cache._items
    assert nbytes((np.zeros(10, np.int64), np.zeros(5, np.float32))) >= 100


def test_engine_after_an_update_decodes_only_the_new_segment(tmp_path):
    """The same queries after a swap: answers equal a fresh engine's, and nothing of the old segment is re-read."""
    from search.query.engine import SearchEngine
    from search.query.params import SearchParams

    home = IndexHome(tmp_path / "index")
    _publish_first(home, _articles(300, "a"))
    engine = SearchEngine(home.root)
    queries = [SearchParams.from_mapping(q) for q in ({"q": "body number"}, {"q": '"number 7"'}, {"q": "title"},
                                                      {"q": "body", "places": ["p1"]})]
    for params in queries:
        engine.search(params)
    old_segments = engine.segments.segments()
    _publish_update(home, _articles(40, "b"))
    before = dict(engine.segments._items)
    answers = [engine.search(params) for params in queries]
    new_keys = [key for key in engine.segments._items if key not in before]
    assert new_keys and all(key[0] not in old_segments for key in new_keys)
    fresh = SearchEngine(home.root)
    for params, answer in zip(queries, answers, strict=True):
        expected = fresh.search(params)
        assert {**answer, "took_ms": 0} == {**expected, "took_ms": 0}
    assert answers[0]["total"] == 340
