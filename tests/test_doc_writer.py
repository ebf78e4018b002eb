"""A segment filled by the lean writer (doc_writer) holds what Whoosh's own add_document writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import reuters_files
from segments import one_segment
from whoosh import query
from whoosh.qparser import QueryParser
from whoosh.searching import Searcher

from search.index import (
    doc_writer,
    postings_sidecar,
    segment_columns,
    token_log,
    whoosh_internals,
    whoosh_perdoc,
    writer,
)
from search.index.schema import WORD_RE, build_schema, words
from search.model import Article

WORDS = ["harbour", "grain", "council", "bridge", "market", "election", "storm", "reactor", "budget", "orchestra",
         "the", "of", "U.S.", "3.5", "Σίσυφος", "ÆØÅ", "x" * 45, "running", "runs", "İstanbul"]


def _articles(count: int) -> list[Article]:
    """Empty and long fields, stop words, dotted words, non-ASCII, words over the length limit, offsets."""
    return [Article(id=f"a{i}", title=f"{WORDS[i % 20]} story {i} Zürich" if i % 9 else "",
                    body=" ".join(WORDS[(i * 7 + j * j) % 20] for j in range(1 + (i * 37) % 300)) + " straße über",
                    date=datetime(1987, 3, 1 + i % 28, i % 24, i % 60, tzinfo=UTC) if i % 4 else None,
                    source="Wire" if i % 3 else "", places=[f"p{i % 3}"] if i % 7 else [],
                    people=["Anna Berg", "Ål Ögren"] if i % 5 == 0 else [], orgs=["a.b. c", "Dé"] if i % 6 else [],
                    path=f"/src/{i % 4}.jsonl", line=i + 1, utc_offset=-300 if i % 8 == 0 else 0,
                    content_hash=f"{i:016x}" if i % 10 else "")
            for i in range(count)]


def _segment(directory: Path, articles: list[Article], lean: bool):
    """A one-segment index, written by the lean writer or by Whoosh's add_document; (index, filler or None)."""
    return one_segment(directory, articles, lean)


def _leaf(ix):
    (leaf, _), = ix.reader().leaf_readers()
    return leaf


def _reuters() -> list[Article]:
    """The first file of Reuters-21578: real wire text (numbers, abbreviations, odd markup, given facets)."""
    from search.ingest.read import read_file

    if not reuters_files():
        pytest.skip("the shared Reuters corpus is not here")
    return [a for a in read_file(reuters_files()[0]) if isinstance(a, Article)]


@pytest.fixture(scope="module", params=["made up", "reuters"])
def pair(request, tmp_path_factory):
    base = tmp_path_factory.mktemp("lean")
    articles = _articles(700) if request.param == "made up" else _reuters()
    whoosh, _ = _segment(base / "whoosh", articles, lean=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(doc_writer, "BATCH", 96)  # several batches, the last one short
        lean, filler = _segment(base / "lean", articles, lean=True)
    return _leaf(whoosh), _leaf(lean), filler, base


def test_stored_fields_and_lengths_are_whooshs(pair):
    whoosh, lean, _, _ = pair
    size = whoosh.doc_count_all()
    assert lean.doc_count_all() == size >= 700
    raw_whoosh, raw_lean = (whoosh_internals.stored_column(r) for r in (whoosh, lean))
    assert raw_lean[0].get(raw_lean[1], raw_lean[2]) == raw_whoosh[0].get(raw_whoosh[1], raw_whoosh[2])
    for name in whoosh.schema.names():
        assert lean.field_length(name) == whoosh.field_length(name), name
        assert [lean.doc_field_length(d, name) for d in range(size)] == \
               [whoosh.doc_field_length(d, name) for d in range(size)], name


def _raw(leaf) -> dict:
    """Every term's term info bytes and posting list bytes (as tests/test_fast_postings.py reads them)."""
    terms = leaf._terms
    infos = dict(terms._tindex.items())
    out = {"fieldmap": dict(terms._fieldmap)}
    for name, text in leaf.all_terms():
        offset, length = terms.term_info(name, text).extent()
        length = length[0] if isinstance(length, tuple) else length  # 2.7.4 reads it back as a 1-tuple
        out[name, text] = (infos[terms._keycoder(name, text)], terms._postfile.get(offset, length))
    return out


def test_every_posting_is_whooshs_own_bytes(pair):
    whoosh, lean, _, _ = pair
    ours, theirs = _raw(lean), _raw(whoosh)
    assert {key[0] for key in theirs if key != "fieldmap"} >= {"id", "path", "hash", "date", "title", "body",
                                                               "people", "orgs"}
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert ours[key] == theirs[key], key


def test_column_part_equals_reading_the_segment_back(pair):
    whoosh, _, filler, _ = pair
    ours = filler.column_part()
    theirs = segment_columns.compute_part(whoosh, ours.segment_id)
    assert ours.size == theirs.size
    for name in segment_columns.DOC_COLUMNS:
        np.testing.assert_array_equal(ours.docs[name], theirs.docs[name], err_msg=name)
    for name in segment_columns.pair_column_names():
        for key in ("vocab", "pair_doc", "pair_val"):
            np.testing.assert_array_equal(getattr(ours.pairs[name], key), getattr(theirs.pairs[name], key))
    np.testing.assert_array_equal(ours.spell_words, theirs.spell_words)
    np.testing.assert_array_equal(ours.spell_freq, theirs.spell_freq)


def test_sidecar_equals_the_one_read_from_whoosh(pair):
    whoosh, _, filler, base = pair
    ours = filler.write_sidecar(base / "lean")
    theirs = postings_sidecar.write_segment(base / "whoosh", whoosh)
    assert ours.read_bytes() == theirs.read_bytes()


def test_whoosh_searches_the_lean_segment_alike(pair):
    whoosh, lean, _, _ = pair
    schema = build_schema()
    queries = [QueryParser(field, schema).parse(text) for text, field in (
        ("storm", "body"), ('"grain market"', "body"), ("zürich", "title"), ("ögren", "people"), ("run", "body"),
        ("u.s", "body"), ("id:a9", "body"), ("path:/src/1.jsonl", "body"), ("dé", "orgs"),  # the made-up set
        ("oil", "body"), ('"crude oil"', "body"), ("prices", "title"), ("usa", "places"), ("reuters", "source"))]
    queries.append(query.DateRange("date", datetime(1987, 3, 5), datetime(1987, 3, 9)))
    answered = 0
    for q in queries:
        found = [[(hit["id"], round(hit.score, 6)) for hit in Searcher(r).search(q, limit=None)]
                 for r in (lean, whoosh)]
        assert found[0] == found[1], q
        answered += bool(found[0])
    assert answered >= 6


def test_datetime_terms_are_whooshs():
    field = build_schema()["date"]
    terms_of = whoosh_perdoc.term_function(field)
    for value in (datetime(1987, 3, 1), datetime(2026, 11, 26, 13, 5, 59, 123456), datetime(1900, 1, 1)):
        assert terms_of(value) == [t for t, *_ in field.index(value)]


def test_an_unknown_field_is_refused(tmp_path):
    writer.create(tmp_path)
    w = whoosh_internals.worker_segment_writer(tmp_path, 0, limitmb=16, codec=writer.codec())
    filler = doc_writer.SegmentFiller(w)
    with pytest.raises(ValueError):
        filler.add({"id": "x", "colour": "red"})


def test_ascii_text_splits_into_the_same_words():
    every = "".join(map(chr, range(128)))
    for text in (every, every[::-1], every[::3] + every[1::3] + every[2::3], "U.S. 3.5 pct, a_b c..d .e f. Zürich"):
        assert words(text) == WORD_RE.findall(text.lower())


def test_stable_order_is_numpys_stable_argsort():
    rng = np.random.default_rng(15)
    for high in (300, 70_000, 2**31 - 1):  # one pass, two passes, the widest term id
        keys = rng.integers(0, high, 50_000).astype(np.int32)
        np.testing.assert_array_equal(token_log.stable_order(keys), np.argsort(keys, kind="stable"))
