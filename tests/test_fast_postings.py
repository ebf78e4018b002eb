"""A build worker's segment written from numpy arrays holds exactly what Whoosh's own writer writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from whoosh.formats import Positions
from whoosh.qparser import QueryParser

from search.index import fast_postings, postings_sidecar, w3_pickle, whoosh_blocks, whoosh_internals, writer
from search.index.w3_encode import FieldPostings
from search.model import Article

WORDS = ["harbour", "grain", "council", "bridge", "market", "election", "storm", "reactor", "budget", "orchestra"]


def _articles(count: int) -> list[Article]:
    """Long and short fields (one-byte lengths quantised), terms in more than one 256-posting block, non-ASCII,
    empty titles and bodies, dates and none, and one long article: a word 1,500 times (pickle's list batches of
    1,000, a count above 255) and gaps between positions above 255 and 65,535."""
    articles = [Article(id=f"a{i}", title=f"{WORDS[i % 10]} story {i} Zürich" if i % 9 else "",
                        body=" ".join(WORDS[(i * 7 + j * j) % 10] for j in range(1 + (i * 37) % 300)) + " straße über"
                        if i % 50 != 7 else "",
                        date=datetime(1987, 3, 1 + i % 28, 10, i % 60, tzinfo=UTC) if i % 4 else None, source="Wire",
                        places=[f"p{i % 3}"], people=["Anna Berg", "Ål Ögren"] if i % 5 == 0 else [],
                        path=f"/src/{i % 4}.jsonl", line=i + 1)
                for i in range(count)]
    if count > 3:
        articles[3].body = "omega " + ("alpha beta " * 1500 + "gamma " * 300 + "filler " * 70_000
                            + "omega delta")
    return articles


def _segment(directory: Path, articles: list[Article], install=None):
    """A one-segment index written by a build worker's writer, ``install(writer, collector)`` taking over postings."""
    directory.mkdir()
    writer.create(directory)
    w = whoosh_internals.worker_segment_writer(directory, 0, limitmb=writer.WRITER_LIMIT_MB, codec=writer.codec())
    collector = postings_sidecar.Collector(w.schema, whoosh_internals.next_docnum(w))
    if install:
        install(w, collector)
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


def _read_back(ix) -> dict[str, FieldPostings]:
    with ix.reader() as reader:
        (leaf, _), = reader.leaf_readers()
        return {name: FieldPostings.read(leaf, name) for name in leaf.indexed_field_names()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Whoosh's own segment, the build's (recorded fields from the collector), and one with every field from arrays."""
    root, articles = tmp_path_factory.mktemp("fast"), _articles(700)
    whoosh = _segment(root / "whoosh", articles)
    fast = _segment(root / "fast", articles, fast_postings.install)
    fields = _read_back(whoosh)
    return whoosh, fast, _segment(root / "arrays", articles, _from_arrays(fields)), fields


def _from_arrays(fields: dict[str, FieldPostings]):
    """An ``install`` that has the writer take every field's postings from these arrays."""
    def install(w, collector):
        whoosh_blocks.write_fields_in_blocks(w, {name: (lambda name=name: fields[name]) for name in fields},
                                             check=lambda written: None)
    return install


def test_segment_postings_are_whooshs_own_bytes(built):
    whoosh, fast, _, _ = built
    reference, ours = _raw(whoosh), _raw(fast)
    assert ours.keys() == reference.keys()
    assert {field for field, *_ in (k for k in reference if k != "fieldmap")} >= {"body", "title", "people", "id"}
    with whoosh.reader() as reader:
        assert reader.doc_frequency("body", "straße") == 685  # three 256-posting blocks, the last one short
        assert reader.frequency("body", "alpha") == 1500
    for key in reference:
        assert ours[key] == reference[key], key


def test_every_field_kind_from_arrays_is_whooshs_own_bytes(built):
    """ID and DATETIME (Existence: no values, no lengths) as well as positions, weights and lengths."""
    whoosh, _, arrays, fields = built
    assert {"id", "path", "hash", "date", "body", "title", "people", "places"} <= set(fields)
    reference, ours = _raw(whoosh), _raw(arrays)
    assert ours.keys() == reference.keys()
    for key in reference:
        assert ours[key] == reference[key], key


def test_a_field_written_in_parts_is_the_same(built, tmp_path, monkeypatch):
    """Parts of at most 300 postings: many terms per part, and "straße" (685 postings) a part alone."""
    whoosh, _, _, fields = built
    monkeypatch.setattr(whoosh_blocks, "PART_POSTINGS", 300)
    assert len(list(fields["body"].parts(300))) > 10
    assert _raw(_segment(tmp_path / "parts", _articles(700), _from_arrays(fields))) == _raw(whoosh)


@pytest.mark.parametrize("which", [1, 2])
def test_whoosh_searches_the_fast_segment(built, which):
    ix = built[which]
    with ix.searcher() as searcher:
        for text, field in (("storm", "body"), ('"grain market"', "body"), ("zürich", "title"), ("ögren", "people"),
                            ('"omega delta"', "body"), ("[19870305 to 19870307]", "date"), ("a9", "id")):
            hits = searcher.search(QueryParser(field, ix.schema).parse(text), limit=None)
            assert len(hits) > 0, text
        assert searcher.document(id="a9")["path"] == "/src/1.jsonl"
        assert [hit["id"] for hit in searcher.search(QueryParser("body", ix.schema).parse("omega"))] == ["a3"]


def test_position_lists_are_whooshs_encoding():
    """Every opcode width, list batches of 1,000 and counts with bytes from 0x80, as pickled-bytes text."""
    rng = np.random.default_rng(7)
    lists = [[0], [127], [128], [255], [256], [65535], [65536], [2 ** 31 - 1], [3, 3 + 200, 3 + 200 + 70_000]]
    lists += [np.cumsum(rng.integers(0, 300, n)).tolist() for n in (2, 127, 128, 999, 1000, 1001, 2000, 2001, 40_000)]
    ptr = w3_pickle.exclusive_cumsum(np.array([len(v) for v in lists]))
    deltas = np.concatenate([np.diff(v, prepend=0) for v in lists])
    encoded = w3_pickle.Utf8IntLists(ptr, deltas)
    out = np.zeros(int(encoded.sizes.sum()), np.uint8)
    encoded.put(out, w3_pickle.exclusive_cumsum(encoded.sizes)[:-1])
    text = out.tobytes().decode("utf-8")
    expected = "".join(Positions().encode(v).decode("latin-1") for v in lists)
    assert text == expected


def test_a_segment_with_unrecorded_documents_is_refused(tmp_path):
    (tmp_path / "ix").mkdir()
    writer.create(tmp_path / "ix")
    w = whoosh_internals.worker_segment_writer(tmp_path / "ix", 0, limitmb=64, codec=writer.codec())
    collector = postings_sidecar.Collector(w.schema, 0)
    fast_postings.install(w, collector)
    w.add_document(**writer.to_document(_articles(1)[0]))  # not recorded: the collector never listened
    with pytest.raises(RuntimeError):
        whoosh_internals.finish_worker_segment(w)


def test_a_compressing_codec_is_refused(tmp_path):
    (tmp_path / "ix").mkdir()
    writer.create(tmp_path / "ix")
    w = whoosh_internals.worker_segment_writer(tmp_path / "ix", 0, limitmb=64,
                                               codec=whoosh_internals.w3_codec(blocklimit=256, compression=3))
    with pytest.raises(ValueError):
        fast_postings.install(w, postings_sidecar.Collector(w.schema, 0))
    w.cancel()
