"""Each assumption search/index/whoosh_internals.py makes, checked against the installed Whoosh."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.index import TOC
from whoosh.matching import ListMatcher
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.index import whoosh_internals, writer
from search.model import Article

WORDS = ["harbour", "grain", "council", "bridge", "market", "election", "storm", "reactor", "budget", "orchestra"]


def article(i: int, words: int = 12) -> Article:
    body = " ".join(WORDS[(i * 3 + j) % len(WORDS)] for j in range(words))
    return Article(id=f"a{i}", path=f"f{i % 7}.txt", title=f"Story {i} {WORDS[i % 10]}", body=body,
                   content_hash=f"{i:016x}", people=["Anna Berg"] if i % 5 == 0 else [])


def index_in_segments(directory: Path, sizes: list[int]) -> None:
    """An index of several segments (no merging), the way updates leave one."""
    ix = writer.create(directory)
    start = 0
    for size in sizes:
        w = ix.writer(codec=writer.codec())
        for i in range(start, start + size):
            w.add_document(**writer.to_document(article(i)))
        w.commit(merge=False)
        start += size


def file_hashes(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir() if p.is_file()}


def test_toc_file_name_is_the_one_whoosh_writes(tmp_path: Path):
    name = TOC._filename(whoosh_internals.INDEX_NAME, 12)
    assert whoosh_internals.TOC_RE.match(name).group(1) == "12"
    assert TOC._pattern(whoosh_internals.INDEX_NAME).match(name)
    assert whoosh_internals.latest_toc(tmp_path) is None
    index_in_segments(tmp_path, [3])
    first = whoosh_internals.latest_toc(tmp_path)
    assert first == writer.open_index(tmp_path).latest_generation()
    writer.apply_changes(tmp_path, [], [article(50)])
    assert whoosh_internals.latest_toc(tmp_path) == writer.open_index(tmp_path).latest_generation() > first


def test_committed_files_are_never_rewritten(tmp_path: Path):
    """link_copy's premise: updating, deleting and merging in a hard-linked copy leave the source's files alone."""
    source, copy = tmp_path / "source", tmp_path / "copy"
    source.mkdir()
    copy.mkdir()
    index_in_segments(source, [40, 30, 20])
    before = file_hashes(source)
    writer.link_copy(source, copy)
    assert any(p.stat().st_nlink > 1 for p in copy.iterdir())
    writer.apply_changes(copy, ["f1.txt"], [article(3, words=30), article(500)])  # delete by term, update, add
    ix = writer.open_index(copy)
    with ix.writer(codec=writer.codec()) as w:
        w.delete_by_term("id", "a4")
    ix.optimize()  # merges every segment into a new one and unlinks the old files
    assert file_hashes(source) == before
    with writer.open_index(source).searcher() as searcher:
        assert searcher.doc_count() == 90
    with writer.open_index(copy).searcher() as searcher:
        assert searcher.document(id="a500") is not None and searcher.document(id="a4") is None


def test_worker_segments_have_private_spill_dirs_and_commit_as_one_index(tmp_path: Path):
    writer.create(tmp_path)
    segments = []
    for worker in range(2):
        w = whoosh_internals.worker_segment_writer(tmp_path, worker, limitmb=16, codec=writer.codec())
        assert Path(w._tempstorage.folder).name == f"{whoosh_internals.INDEX_NAME}.tmp-worker{worker}"
        for i in range(worker, 10, 2):
            w.add_document(**writer.to_document(article(i)))
        segments.append(whoosh_internals.finish_worker_segment(w))
    ix = writer.open_index(tmp_path)
    whoosh_internals.commit_segments(ix, segments, codec=writer.codec())
    ix = writer.open_index(tmp_path)
    assert len(ix._segments()) == 2
    with ix.searcher() as searcher:
        assert sorted(d["id"] for d in searcher.all_stored_fields()) == sorted(f"a{i}" for i in range(10))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp") or "worker" in p.name]


def test_stored_document_numbers_are_leaf_offsets_plus_segment_ids(tmp_path: Path):
    index_in_segments(tmp_path, [15, 10, 5])
    writer.apply_changes(tmp_path, ["f2.txt"], [])
    with writer.open_index(tmp_path).reader() as reader:
        assert len(reader.leaf_readers()) > 1
        expected = {offset + d for leaf, offset in reader.leaf_readers()
                    for d in range(leaf.doc_count_all()) if not leaf.is_deleted(d)}
        found = {docnum: stored["id"] for docnum, stored in whoosh_internals.stored_documents(reader)}
        assert set(found) == expected
        for docnum, doc_id in found.items():
            assert reader.stored_fields(docnum)["id"] == doc_id


def test_field_lengths_are_whoosh_quantised_lengths(tmp_path: Path):
    ix = writer.create(tmp_path)
    with ix.writer(codec=writer.codec()) as w:
        for n, words in enumerate((1, 7, 60, 1000)):
            w.add_document(**writer.to_document(article(n, words=words)))
        w.add_document(**writer.to_document(Article(id="empty", title="", body="")))
    with writer.open_index(tmp_path).reader() as reader:
        lengths = whoosh_internals.field_lengths(reader, "body", reader.doc_count_all())
    assert lengths.tolist() == [byte_to_length(length_to_byte(n)) for n in (1, 7, 60, 1000)] + [0]


@pytest.mark.parametrize(("fieldname", "text"), [("body", "harbour"), ("body", "storm"), ("title", "storm"),
                                                  ("people", "anna"), ("body", "reactor")])
def test_decoded_blocks_equal_whooshs_own_matcher(tmp_path: Path, fieldname: str, text: str):
    """Ids, weights and positions from the raw blocks are exactly what Whoosh's matcher reports.

    700 docs give several 256-posting blocks; any other matcher (here Whoosh's ListMatcher over
    the same postings) takes the public-API path and must agree too.
    """
    index_in_segments(tmp_path, [700, 1])
    seen = 0
    with writer.open_index(tmp_path).reader() as reader:
        for leaf, _ in reader.leaf_readers():
            if (fieldname, text) not in leaf:
                continue
            matcher = leaf.postings(fieldname, text)
            assert isinstance(matcher, W3LeafMatcher)
            want_ids, want_weights, want_values, want_positions = [], [], [], []
            while matcher.is_active():
                want_ids.append(matcher.id())
                want_weights.append(matcher.weight())
                want_values.append(matcher.value())
                want_positions.append(matcher.value_as("positions"))
                matcher.next()
            generic = ListMatcher(want_ids, want_weights, want_values, format=matcher.format)
            for postings in (leaf.postings(fieldname, text), generic):
                assert decoded(postings) == (want_ids, [np.float32(w) for w in want_weights], want_positions)
            seen += 1
    assert seen


def decoded(matcher) -> tuple[list, list, list]:
    ids, weights, positions = [], [], []
    for block_ids, block_weights, values, fmt in whoosh_internals.blocks(matcher):
        ids.extend(block_ids.tolist())
        weights.extend(block_weights.tolist())
        positions.extend(np.cumsum(d).tolist() for d in whoosh_internals.position_deltas(values, fmt))
    return ids, weights, positions
