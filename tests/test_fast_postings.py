"""A build worker's segment written from numpy arrays holds exactly what Whoosh's own writer writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from segments import one_segment
from whoosh.formats import Positions
from whoosh.qparser import QueryParser

from search.index import doc_writer, w3_pickle, whoosh_blocks, whoosh_internals, whoosh_perdoc, writer
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


def _segment(directory: Path, articles: list[Article], install=None, lean: bool = False):
    """A one-segment index written by Whoosh's ``add_document`` (``install(writer)`` may take over the postings)
    or by the build's lean writer."""
    return one_segment(directory, articles, lean, install)[0]


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
    """Whoosh's own segment, the build's (the lean writer's), and one with every field from arrays read back."""
    root, articles = tmp_path_factory.mktemp("fast"), _articles(700)
    whoosh = _segment(root / "whoosh", articles)
    fast = _segment(root / "fast", articles, lean=True)
    fields = _read_back(whoosh)
    return whoosh, fast, _segment(root / "arrays", articles, _from_arrays(fields)), fields


def _from_arrays(fields: dict[str, FieldPostings]):
    """An ``install`` that has the writer take every field's postings from these arrays."""
    def install(w):
        whoosh_blocks.write_fields_in_blocks(w, {name: (lambda name=name: fields[name]) for name in fields},
                                             check=lambda written: None)
    return install


def test_the_lean_writers_postings_are_whooshs_own_bytes(built):
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
    filler = doc_writer.SegmentFiller(w)
    filler.add(writer.to_document(_articles(1)[0]))
    filler.write_documents()
    whoosh_perdoc.add_stored(w, 1, {})  # a document the filler never saw
    with pytest.raises(RuntimeError):
        filler.finish()


def test_a_compressing_codec_is_refused(tmp_path):
    (tmp_path / "ix").mkdir()
    writer.create(tmp_path / "ix")
    w = whoosh_internals.worker_segment_writer(tmp_path / "ix", 0, limitmb=64,
                                               codec=whoosh_internals.w3_codec(blocklimit=256, compression=3))
    with pytest.raises(ValueError):
        doc_writer.SegmentFiller(w)
    w.cancel()


def _write_both(tmp_path, schema, fields: dict[str, FieldPostings], lengths: dict[str, dict[int, int]]):
    """The .pst and .trm bytes of the fields written by Whoosh's own field writer and by ``whoosh_blocks``."""
    from whoosh.filedb.filestore import FileStorage

    class Lengths:
        def doc_field_length(self, docnum, fieldname, default=0):
            return lengths.get(fieldname, {}).get(docnum, default)

    storage, codec, out = FileStorage(str(tmp_path)), writer.codec(), []
    for ours in (False, True):
        segment = codec.new_segment(storage, "MAIN")
        fieldwriter = codec.field_writer(storage, segment)
        if ours:
            for name in sorted(fields):
                whoosh_blocks._write_field(fieldwriter, name, schema[name], fields[name], codec._blocklimit)
            whoosh_blocks.close_field_writer(fieldwriter)
        else:
            items = []
            for name in sorted(fields):
                f, fmt = fields[name], schema[name].format
                ptr, pos_ptr = f.term_ptr.tolist(), f.pos_ptr.tolist()
                for term, low, high in zip(f.terms, ptr, ptr[1:], strict=False):
                    items += [(name, term, int(f.docs[i]), float(f.weights[i]),
                               fmt.encode(f.positions[pos_ptr[i]:pos_ptr[i + 1]].tolist())) for i in range(low, high)]
            fieldwriter.add_postings(schema, Lengths(), iter(items))
            fieldwriter.close()
        out.append([storage.open_file(segment.make_filename(ext)).read() for ext in (".pst", ".trm")])
    return out


@pytest.mark.parametrize("boost", [1.1, 0.0])
def test_weights_that_do_not_add_up_exactly_are_summed_in_whooshs_order(tmp_path, boost):
    """A boost of 1.1: float32 weights whose sums round, so each term's total is added block by block;
    of 0: no weight above Whoosh's initial int 0."""
    from whoosh import fields as whoosh_fields

    from search.index.schema import text_field

    schema = whoosh_fields.Schema(text=text_field(None, field_boost=boost))
    rng = np.random.default_rng(3)
    counts = rng.integers(1, 40, 900)
    term_ptr = np.array([0, 1, 300, 900])  # a single posting, two blocks, three blocks
    docs = np.concatenate([[5], np.arange(299) * 2, np.arange(600) * 3])
    pos_ptr = w3_pickle.exclusive_cumsum(counts)
    positions = np.concatenate([np.arange(c) * 7 for c in counts.tolist()])
    lengths = {int(d): int(c) + 3 for d, c in zip(docs, counts, strict=True)}
    field = FieldPostings(terms=[b"a", b"b", "ç".encode()], term_ptr=term_ptr, docs=docs, weights=counts * boost,
                          lengths=np.array([lengths[int(d)] for d in docs]), pos_ptr=pos_ptr, positions=positions)
    whooshs, ours = _write_both(tmp_path, schema, {"text": field}, {"text": lengths})
    assert ours == whooshs
