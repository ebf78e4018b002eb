"""The numpy postings sidecar: equal to Whoosh's own postings in every segment, kept and dropped with its segment."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from whoosh.filedb.filestore import FileStorage

from search.index import columns, postings_sidecar, writer
from search.index.generations import IndexHome
from search.index.schema import QUERY_FIELDS
from search.index.whoosh_internals import segment_id
from search.model import Article
from search.query import postings as postings_mod
from search.query.engine import SearchEngine
from search.query.params import SearchParams
from search.query.sidecar import SegmentSidecar

WORDS = ["harbour", "grain", "council", "bridge", "market", "election", "storm", "reactor", "budget", "orchestra"]


def _articles(count: int, tag: str, extra: str = "") -> list[Article]:
    return [Article(id=f"{tag}-{i}", title=f"{WORDS[i % 10]} {tag} story {i}",
                    body=" ".join(WORDS[(i * 3 + j) % 10] for j in range(5 + i % 40)) + extra,
                    date=datetime(1987, 3, 1 + i % 28, tzinfo=UTC), source="Wire", places=[f"p{i % 3}"],
                    people=["Anna Berg"] if i % 5 == 0 else [], path=f"/src/{tag}{i % 4}.jsonl", line=i + 1)
            for i in range(count)]


def _publish(home: IndexHome, articles: list[Article], gone: list[str] | None = None) -> Path:
    number, work = home.new_workdir()
    live = home.live()
    if live is None:
        writer.write_all(work, articles, procs=1)
    else:
        writer.link_copy(live, work)
        writer.apply_changes(work, gone or [], articles)
    columns.build(work)
    return home.publish(number, work)


@pytest.fixture
def updated(tmp_path) -> Path:
    """A generation of two segments, the first with deletions (replaced documents, a removed file)."""
    home = IndexHome(tmp_path / "index")
    _publish(home, _articles(700, "a"))  # several 256-posting blocks per frequent term
    return _publish(home, _articles(20, "a", " storm surge") + _articles(30, "b"), gone=["/src/a3.jsonl"])


def _reader(path: Path):
    return FileStorage(str(path), supports_mmap=False).open_index().reader()


def test_every_term_of_every_segment_equals_whooshs_postings(updated):
    reader = _reader(updated)
    leaves = reader.leaf_readers()
    assert len(leaves) == 2 and any(leaf.has_deletions() for leaf, _ in leaves)
    checked = 0
    for leaf, _ in leaves:
        sidecar = SegmentSidecar.open(postings_sidecar.path_for(updated, segment_id(leaf)))
        assert sidecar is not None
        for fieldname in QUERY_FIELDS:
            if fieldname not in leaf.indexed_field_names():
                continue
            for term in leaf.lexicon(fieldname):
                text = term.decode("utf-8")
                want_ids, want_weights = postings_mod._segment_postings(leaf, fieldname, text)
                ids, weights = sidecar.postings(fieldname, text)
                assert ids.tolist() == want_ids.tolist() and weights.tolist() == want_weights.tolist()
                want = postings_mod._segment_positions(leaf, fieldname, text)
                got = sidecar.positions(fieldname, text)
                assert [a.tolist() for a in got] == [a.tolist() for a in want]
                checked += 1
        assert sidecar.postings("body", "notaword")[0].size == 0
        assert sidecar.positions("body", "zzzz" * 30)[0].size == 0  # longer than any term
    assert checked > 100


def test_answers_are_the_same_without_sidecars(updated, tmp_path):
    """The Whoosh path (an index written before sidecars) answers exactly as the sidecar path."""
    home_root = updated.parent.parent
    queries = [{"q": "storm"}, {"q": '"storm surge"'}, {"q": "harbour grain", "places": ["p1"]},
               {"q": "people:anna"}, {"q": "bud*"}, {"q": '"council bridge market"'}, {"q": "title:story -reactor"}]
    with_sidecars = SearchEngine(home_root)
    answers = [with_sidecars.search(SearchParams.from_mapping(q)) for q in queries]
    assert with_sidecars.generation().postings.sidecars and all(with_sidecars.generation().postings.sidecars.values())
    for sidecar in updated.glob(f"*{postings_sidecar.SUFFIX}"):
        sidecar.unlink()
    without = SearchEngine(home_root)
    assert not any(without.generation().postings.sidecars.values())
    for query, answer in zip(queries, answers, strict=True):
        assert answer["total"] > 0
        assert {**answer, "took_ms": 0} == {**without.search(SearchParams.from_mapping(query)), "took_ms": 0}


def test_sidecars_follow_their_segments(tmp_path):
    """Hard-linked into the next generation with the segment; deleted by Whoosh when a merge drops the segment."""
    home = IndexHome(tmp_path / "index")
    first = _publish(home, _articles(50, "a"))
    first_ids = {segment_id(leaf) for leaf, _ in _reader(first).leaf_readers()}
    second = _publish(home, _articles(5, "b"))
    for generation in (first, second):
        ids = {segment_id(leaf) for leaf, _ in _reader(generation).leaf_readers()}
        assert {p.name for p in generation.glob(f"*{postings_sidecar.SUFFIX}")} == \
            {postings_sidecar.path_for(generation, i).name for i in ids}
    shared = first_ids & {segment_id(leaf) for leaf, _ in _reader(second).leaf_readers()}
    assert shared, "the update keeps the first segment"
    for segid in shared:  # the same inode: written once
        inodes = {postings_sidecar.path_for(generation, segid).stat().st_ino for generation in (first, second)}
        assert len(inodes) == 1
    ix = FileStorage(str(second)).open_index()
    ix.optimize()  # one merged segment: the old sidecars go with the old segments
    assert postings_sidecar.write_missing(second)
    ids = {segment_id(leaf) for leaf, _ in _reader(second).leaf_readers()}
    assert len(ids) == 1
    assert {p.name for p in second.glob(f"*{postings_sidecar.SUFFIX}")} == \
        {postings_sidecar.path_for(second, i).name for i in ids}
    assert postings_sidecar.write_missing(second) == []


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated"])
def test_a_damaged_sidecar_is_ignored(updated, damage):
    path = next(updated.glob(f"*{postings_sidecar.SUFFIX}"))
    data = path.read_bytes()
    path.unlink()  # hard-linked with the first generation: replace, never rewrite in place
    path.write_bytes({"empty": b"", "garbage": b"x" * 500, "truncated": data[:len(data) // 2]}[damage])
    assert SegmentSidecar.open(path) is None
    engine = SearchEngine(updated.parent.parent)
    assert engine.search(SearchParams.from_mapping({"q": "storm"}))["total"] > 0


def test_terms_are_sorted_as_whoosh_sorts_them(updated):
    sidecar = SegmentSidecar.open(next(updated.glob(f"*{postings_sidecar.SUFFIX}")))
    terms = sidecar._arrays("body")["terms"]
    assert len(terms) > 5 and np.all(terms[:-1] < terms[1:])


def test_build_workers_write_the_same_sidecar_as_reading_the_segment_back(tmp_path, monkeypatch):
    """A worker's sidecar comes from what it analysed; it must equal one decoded from its finished segment."""
    monkeypatch.setattr(writer, "MIN_DOCS_PER_WORKER", 10)
    articles = _articles(300, "a") + [Article(id="u", title="Ünïcode Zürich", body="zürich ßtraße a.b.c 3.5 über",
                                              path="/src/u.jsonl", people=["Ål Ögren"])]
    (tmp_path / "ix").mkdir()
    writer.write_all(tmp_path / "ix", articles, procs=2)
    reader = _reader(tmp_path / "ix")
    assert len(reader.leaf_readers()) == 2
    for leaf, _ in reader.leaf_readers():
        built = postings_sidecar.path_for(tmp_path / "ix", segment_id(leaf))
        (tmp_path / "back").mkdir(exist_ok=True)
        read_back = postings_sidecar.write_segment(tmp_path / "back", leaf)
        ours, theirs = SegmentSidecar.open(built), SegmentSidecar.open(read_back)
        for fieldname in QUERY_FIELDS:
            assert ours.has_field(fieldname) == theirs.has_field(fieldname)
            if ours.has_field(fieldname):
                for key, array in ours._arrays(fieldname).items():
                    assert array.tolist() == theirs._arrays(fieldname)[key].tolist(), (fieldname, key)
