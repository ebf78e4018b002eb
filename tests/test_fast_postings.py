"""A build worker's segment written from numpy arrays holds exactly what Whoosh's own writer writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from whoosh.qparser import QueryParser

from search.index import fast_postings, postings_sidecar, whoosh_internals, writer
from search.model import Article

WORDS = ["harbour", "grain", "council", "bridge", "market", "election", "storm", "reactor", "budget", "orchestra"]


def _articles(count: int) -> list[Article]:
    """Long and short fields (one-byte lengths quantised), terms in more than one 256-posting block, non-ASCII."""
    return [Article(id=f"a{i}", title=f"{WORDS[i % 10]} story {i} Zürich" if i % 9 else "",
                    body=" ".join(WORDS[(i * 7 + j * j) % 10] for j in range(1 + (i * 37) % 300)) + " straße über",
                    date=datetime(1987, 3, 1 + i % 28, tzinfo=UTC) if i % 4 else None, source="Wire",
                    places=[f"p{i % 3}"], people=["Anna Berg", "Ål Ögren"] if i % 5 == 0 else [],
                    path=f"/src/{i % 4}.jsonl", line=i + 1)
            for i in range(700)]


def _segment(directory: Path, articles: list[Article], fast: bool):
    directory.mkdir()
    writer.create(directory)
    w = whoosh_internals.worker_segment_writer(directory, 0, limitmb=writer.WRITER_LIMIT_MB, codec=writer.codec())
    collector = postings_sidecar.Collector(w.schema, whoosh_internals.next_docnum(w))
    if fast:
        fast_postings.install(w, collector)
    with collector.listening():
        writer._add_all(w, articles, collector)
    segment = whoosh_internals.finish_worker_segment(w)
    whoosh_internals.commit_segments(writer.open_index(directory), [segment], codec=writer.codec())
    return writer.open_index(directory)


def _raw(ix) -> dict:
    """Every term's term info bytes and posting list bytes, and the field map, of a one-segment index."""
    with ix.reader() as reader:
        (leaf, _), = reader.leaf_readers()
        terms = leaf._terms
        out = {"fieldmap": dict(terms._fieldmap)}
        raw_infos = dict(terms._tindex.items())
        for fieldname, text in leaf.all_terms():
            info = terms.term_info(fieldname, text)
            offset, length = info.extent()
            length = length[0] if isinstance(length, tuple) else length  # 2.7.4 reads it back as a 1-tuple
            out[fieldname, text] = (raw_infos[terms._keycoder(fieldname, text)], terms._postfile.get(offset, length))
        return out


def test_segment_postings_are_whooshs_own_bytes(tmp_path):
    articles = _articles(700)
    whoosh = _raw(_segment(tmp_path / "whoosh", articles, fast=False))
    ours = _raw(_segment(tmp_path / "fast", articles, fast=True))
    assert ours.keys() == whoosh.keys()
    assert {field for field, *_ in (k for k in whoosh if k != "fieldmap")} >= {"body", "title", "people", "id"}
    with writer.open_index(tmp_path / "whoosh").reader() as reader:
        assert reader.doc_frequency("body", "straße") == 700  # three 256-posting blocks, the last one short
    for key in whoosh:
        assert ours[key] == whoosh[key], key


def test_whoosh_searches_the_fast_segment(tmp_path):
    ix = _segment(tmp_path / "fast", _articles(700), fast=True)
    with ix.searcher() as searcher:
        for text, field in (("storm", "body"), ('"grain market"', "body"), ("zürich", "title"), ("ögren", "people")):
            hits = searcher.search(QueryParser(field, ix.schema).parse(text), limit=None)
            assert len(hits) > 0, text
        assert searcher.document(id="a9")["path"] == "/src/1.jsonl"


def test_a_segment_with_unrecorded_documents_is_refused(tmp_path):
    (tmp_path / "ix").mkdir()
    writer.create(tmp_path / "ix")
    w = whoosh_internals.worker_segment_writer(tmp_path / "ix", 0, limitmb=64, codec=writer.codec())
    collector = postings_sidecar.Collector(w.schema, 0)
    fast_postings.install(w, collector)
    w.add_document(**writer.to_document(_articles(1)[0]))  # not recorded: the collector never listened
    with pytest.raises(RuntimeError):
        whoosh_internals.finish_worker_segment(w)

