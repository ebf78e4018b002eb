"""Every use of Whoosh internals in one place, each with the assumption it rests on.

Written against Whoosh 2.7.4 (its last release, 2016; ``whoosh>=2.7.4`` in
pyproject). Nothing here is public Whoosh API: private attributes, file names
and on-disk behaviour that a release could change. Each function's docstring
says what it assumes and what would break; ``tests/test_whoosh_internals.py``
checks every assumption against the installed Whoosh, so an upgrade that
breaks one fails a named test instead of corrupting a generation.

Why use them at all: the public API walks postings one Python call per
posting, and faceting through it (``groupedby``) measured ~1900× slower (warm p95)
than the numpy columns and arrays built from these blocks on Reuters ×10
(bench/bench_query.py); and Whoosh's public writers fill one segment from one
process (bench/bench_index.py compares the parallel build with them).
"""

from __future__ import annotations

import io
import os
import re
import zlib
from array import array
from collections.abc import Iterator
from pathlib import Path
from pickle import load as loads_from
from pickle import loads

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Positions
from whoosh.matching import FilterMatcher
from whoosh.reading import SegmentReader
from whoosh.system import _INT_SIZE
from whoosh.writing import SegmentWriter

INDEX_NAME = "MAIN"  # Whoosh's default index name (whoosh.index._DEF_INDEX_NAME)
TOC_RE = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")


# -- writing ----------------------------------------------------------------------------------
def w3_codec(blocklimit: int, compression: int) -> W3Codec:
    """The Whoosh 3 codec with our posting block size and zlib level.

    Assumes: ``W3Codec(blocklimit=, compression=)`` keywords. ``blocks`` below decodes
    this codec's posting blocks; another default codec would fall back to the slow path.
    """
    return W3Codec(blocklimit=blocklimit, compression=compression)


class WorkerStorage(FileStorage):
    """Index storage whose spill directory is private to one worker.

    Assumes: ``SegmentWriter.__init__`` takes its spill directory from
    ``ix.storage.temp_storage("MAIN.tmp")``, a fixed name, so parallel writers
    would share it and the first to finish would delete the others' sorted runs.
    If Whoosh stops calling ``temp_storage`` with a name, workers still get their
    own directory (the suffix is added to whatever name comes in).
    """

    def __init__(self, path: str, worker: int):
        super().__init__(path)
        self.worker = worker

    def temp_storage(self, name=None):
        return super().temp_storage(f"{name or 'spill'}-worker{self.worker}")


def worker_segment_writer(directory: Path, worker: int, *, limitmb: int, codec: W3Codec) -> SegmentWriter:
    """A writer for one worker's segment: unlocked (the parent holds the generation), private spill dir.

    Assumes: ``SegmentWriter(ix, _lk=False)`` skips the WRITELOCK (a private keyword), and
    each writer allocates its own segment name (``codec.new_segment``, random ids), so
    segments written in parallel never collide.
    """
    ix = WorkerStorage(str(directory), worker).open_index()
    return SegmentWriter(ix, _lk=False, limitmb=limitmb, codec=codec)


def next_docnum(writer: SegmentWriter) -> int:
    """The segment-local number the writer gives the next document it adds.

    Assumes: ``SegmentWriter.docnum`` starts at 0 in a new segment and ``add_document`` adds one.
    The postings sidecar checks the count against the finished segment and reads it back if they differ.
    """
    return writer.docnum


def finish_worker_segment(writer: SegmentWriter):
    """Flush and close a worker's segment without committing a TOC; returns the segment object.

    Assumes: ``_finalize_segment()`` writes and closes the segment files and returns the
    picklable segment (what Whoosh's own MpWriter sends back from its sub-writers), and
    ``_tempstorage`` is the spill directory, which nothing else removes when no TOC is written.
    """
    segment = writer._finalize_segment()
    writer._tempstorage.destroy()
    return segment


def commit_segments(ix, segments: list, *, codec: W3Codec) -> None:
    """Publish segments written by workers as one index: a single new TOC listing them all.

    Assumes: ``_close_segment()`` closes the parent's own (empty) segment, ``_commit_toc``
    writes ``_MAIN_<gen>.toc`` for exactly ``segments`` and deletes unlisted segment files,
    and ``_finish()`` removes the spill directory and releases the lock — the sequence
    ``MpWriter._commit`` uses with ``multisegment=True`` in 2.7.4.
    """
    parent = SegmentWriter(ix, codec=codec)
    parent._close_segment()
    parent._commit_toc(segments)
    parent._finish()


def hardlink_files(source: Path, target: Path) -> None:
    """Copy an index directory by hard links (lock files left out).

    Assumes: Whoosh never rewrites a file once a segment is committed. A commit writes new
    segment files and a new ``_MAIN_<gen>.toc``; deletions live in the segment objects
    pickled into the TOC; merges write new segments and *unlink* the old ones. So writing
    to the copy leaves every file the source shares with it unchanged. If a release ever
    appended to or rewrote a file in place, updating a copy would silently change the live
    generation under a running server.
    """
    for item in source.iterdir():
        if item.is_file() and not item.name.endswith(".lock"):
            os.link(item, target / item.name)


# -- reading ----------------------------------------------------------------------------------
def open_unmapped(directory: Path):
    """The index with readers that open in constant time: compound segments read through the file, not copied.

    Assumes: with ``FileStorage(supports_mmap=True)`` (what ``open_dir`` uses), every
    ``CompoundStorage.open_file`` wraps the mmap in ``BufferFile``, whose ``BytesIO(buf)``
    copies each sub-file into memory, so each reader open costs the size of the index
    (measured: 119 ms per searcher at Reuters ×1, 1.6 ms unmapped; ``update_document``
    opens one per article). With ``supports_mmap=False`` the compound file is read
    through ``StructFile.subset`` windows instead. For writing and one-pass reads, where
    the copy buys nothing.
    """
    return FileStorage(str(directory), supports_mmap=False).open_index()


def segments(ix) -> list:
    """The segments of the index's newest table of contents, in doc-number order, with their deletions.

    Assumes: ``FileIndex._segments()`` reads the TOC's segment list, whose order is the order of
    ``reader.leaf_readers()`` (global doc number = local + sum of the earlier ``doc_count_all()``),
    and each segment's ``segment_id()``, ``doc_count_all()`` and ``deleted_docs()`` are as pickled.
    """
    return ix._segments()


def segment_reader(ix, segment) -> SegmentReader:
    """A reader over one segment only (its local doc numbers), without opening the others."""
    return SegmentReader(ix.storage, ix.schema, segment)


def all_stored_documents(reader) -> Iterator[tuple[int, dict]]:
    """(local doc number, stored fields) of every document of a segment reader, deleted ones included.

    Assumes: ``SegmentReader.stored_fields`` reads the per-doc column without checking deletions
    (deleted documents stay in the segment's files until a merge rewrites it).
    """
    for docnum in range(reader.doc_count_all()):
        yield docnum, reader.stored_fields(docnum)


def latest_toc(directory: Path) -> int | None:
    """The generation number of the newest table of contents in an index directory.

    Assumes: every commit writes a new ``_MAIN_<gen>.toc`` with a larger ``gen``
    (``whoosh.index.TOC._filename``/``_pattern``), so the number identifies the index state.
    """
    found = (TOC_RE.match(p.name) for p in Path(directory).glob(f"_{INDEX_NAME}_*.toc"))
    numbers = [int(m.group(1)) for m in found if m]
    return max(numbers) if numbers else None


def stored_documents(reader) -> Iterator[tuple[int, dict]]:
    """(doc number, stored fields) of every live document.

    Assumes: these doc numbers are the same global numbers as ``segment doc id + offset``
    over ``reader.leaf_readers()``, which is how ``blocks`` results are placed; the columns
    and the postings index the same arrays only because of that.
    """
    return reader.iter_docs()


def field_lengths(reader, fieldname: str, size: int) -> np.ndarray:
    """Every document's length of one field, as Whoosh's own BM25 sees it.

    Assumes: Whoosh keeps a field length as one byte (``length_to_byte``, exact up to
    ~10 terms, then logarithmic), so these are the quantised lengths, and an empty field
    reads as None. Our BM25 normalises with these, matching Whoosh's scorer.
    """
    out = np.zeros(size, dtype=np.float32)
    for docnum in range(size):
        out[docnum] = reader.doc_field_length(docnum, fieldname) or 0
    return out


def blocks(matcher) -> Iterator[tuple[np.ndarray, np.ndarray, object, object]]:
    """(ids, weights, raw values, format) per posting block: W3 blocks decoded whole, others one by one.

    Assumes, for a ``W3LeafMatcher`` with integer ids: ``_data`` is the unpickled block tuple
    ``(delta-coded ids, weights, values)`` loaded by ``_read_data()``; weights are None (all
    1.0), one float (all equal) or an array; ``_lastblock``/``_nextoffset``/``_goto`` walk
    the blocks. Ids are segment-local. Anything else takes the public matcher API, slower
    but always right: other codecs, and the ``ListMatcher`` Whoosh returns for postings
    inlined into the term info, which keeps its format as ``_format`` (2.7.4 never inlines
    with its own W3 codec: ``inlinelimit`` > 1 fails on ``W3TermInfo.set_inline``).

    A segment with deletions wraps its matcher in a ``FilterMatcher`` (``child`` is the raw
    one; it has no ``format``): it is unwrapped here, so deleted docs come back too and
    every caller must drop them (Postings keeps only docs set in ``columns.live``).
    """
    while isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        yield from _w3_blocks(matcher)
        return
    ids, weights, values = [], [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        values.append(matcher.value())
        matcher.next()
    fmt = getattr(matcher, "format", None) or matcher._format
    yield np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32), values, fmt


def _w3_blocks(matcher: W3LeafMatcher):
    """The W3 blocks of a whole posting list from one read of its bytes.

    Assumes the layout ``W3LeafMatcher._goto``/``_read_data`` walk: the list spans
    ``_length`` bytes from ``_startoffset`` (a 4-byte magic, then the blocks from
    ``_baseoffset``); each block is a big-endian int
    (its length after the int; negative for the last block), a pickled info tuple whose
    fourth item is the zlib flag, then the (possibly compressed) pickled
    ``(delta-coded ids, weights, values)``. Whoosh reads each header with ``pickle.load``
    on its compound file, ~20 small Python-level reads per block: most of a cold query.
    """
    length = matcher._length[0] if isinstance(matcher._length, tuple) else matcher._length  # 2.7.4: a 1-tuple
    data = matcher._postfile.get(matcher._baseoffset, matcher._startoffset + length - matcher._baseoffset)
    stream = io.BytesIO(data)
    position = 0
    while True:
        length = int.from_bytes(data[position:position + _INT_SIZE], "big", signed=True)
        last = length < 0
        end = position + _INT_SIZE + abs(length)
        if end > len(data) or (last and end != len(data)):
            raise ValueError(f"posting list of {matcher._term!r}: blocks do not fill its extent as assumed")
        stream.seek(position + _INT_SIZE)
        info = loads_from(stream)
        block = data[stream.tell():end]
        ids, weights, values = loads(zlib.decompress(block) if info[3] else block)
        ids = np.cumsum(np.asarray(ids, dtype=np.int64))
        if weights is None:
            weights = np.ones(len(ids), np.float32)
        elif isinstance(weights, float):
            weights = np.full(len(ids), weights, np.float32)
        else:
            weights = np.asarray(weights, dtype=np.float32)
        yield ids, weights, values, matcher.format
        if last:
            return
        position = end


_PICKLE2_HEAD, _PICKLE_STOP = b"\x80\x02", b"."


def position_deltas(values, fmt) -> list:
    """Position deltas of each posting.

    Assumes: a ``Positions`` value is ``pack_uint(count) + pickle(deltas)``
    (``Positions.encode``), so skipping ``_INT_SIZE`` bytes and unpickling gives the deltas
    without Whoosh's per-posting decode. Other formats go through ``decode_positions``.
    """
    if isinstance(fmt, Positions) and values:
        skip = _INT_SIZE + len(_PICKLE2_HEAD)
        if all(v[_INT_SIZE:skip] == _PICKLE2_HEAD and v[-1:] == _PICKLE_STOP for v in values):
            # One unpickling for the block: MARK, each posting's list, LIST — 1.4× faster than one per posting
            return loads(b"".join((_PICKLE2_HEAD, b"(", *(v[skip:-1] for v in values), b"l", _PICKLE_STOP)))
        return [loads(v[_INT_SIZE:]) for v in values]
    out = []
    for v in values:
        positions = fmt.decode_positions(v)
        out.append([b - a for a, b in zip([0, *positions[:-1]], positions, strict=True)])
    return out


# -- per-segment reading (caches keyed by segment: search/query/segcache.py) ----------------------
def segment_leaves(reader) -> list[tuple[object, int]]:
    """``reader.leaf_readers()`` less the ``EmptyReader`` Whoosh gives for an index without segments
    (a rebuild of a folder with no articles yet): it has no segment, so nothing to cache or read.

    Assumes: every other leaf is a ``SegmentReader``, which has ``_segment`` (``segment_id``).
    """
    return [(leaf, base) for leaf, base in reader.leaf_readers() if hasattr(leaf, "_segment")]


def segment_id(segment_reader) -> str:
    """The id of the segment a leaf reader reads, unique to its files.

    Assumes: ``SegmentReader._segment.segment_id()`` is ``<index name>_<random segid>``, the
    prefix of every file of that segment, drawn fresh for each new segment (``codec.new_segment``)
    and carried unchanged into later TOCs, so one id always names the same immutable files.
    """
    return segment_reader._segment.segment_id()


def stored_column(segment_reader):
    """(file, base position, length) of a segment's stored-fields column, opened on its own handle.

    Assumes: stored fields are the ``_stored`` column of the W3 per-doc reader
    (``W3PerDocReader._get_column_file``), written with ``STORED_COLUMN`` =
    ``PickleColumn(CompressedBytesColumn())``: each value is zlib-compressed pickle (see ``stored_document``).
    """
    return segment_reader._perdoc._get_column_file("_stored")


def stored_extents(colfile, basepos: int, length: int, doccount: int) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, lengths) of every document's value in a ``VarBytesColumn``, read as numpy arrays.

    Assumes the layout ``VarBytesColumn.Writer.finish`` writes: the lengths array (big-endian,
    the array module's item size), then its type code as the last byte; or, when the writer also
    stored offsets (more than ``write_offsets_cutoff`` documents), offsets array + lengths code +
    offsets code + ``X``. Whoosh's own reader derives the offsets in a Python loop on every open
    (8 ms of a 19 ms cold query at ×1); a cumulative sum does it at once.
    """
    last = basepos + length - 1
    lens_code = chr(colfile.get_byte(last))
    offsets = None
    if lens_code == "X":
        lens_code, offs_code = chr(colfile.get_byte(last - 2)), chr(colfile.get_byte(last - 1))
        last = (last - 2) - doccount * _itemsize(offs_code)
        offsets = _big_endian(colfile, last, offs_code, doccount)
    lengths = _big_endian(colfile, last - _itemsize(lens_code) * doccount, lens_code, doccount)
    if offsets is None:
        offsets = np.cumsum(lengths) - lengths
    return offsets, lengths


def _itemsize(code: str) -> int:
    return array(code).itemsize


def _big_endian(colfile, start: int, code: str, count: int) -> np.ndarray:
    size = _itemsize(code)
    data = colfile.get(start, size * count)
    return np.frombuffer(data, dtype=np.dtype(f">{'u' if code.isupper() else 'i'}{size}")).astype(np.int64)


def stored_document(raw: bytes) -> dict:
    """The stored fields of one document from its ``_stored`` column value (empty: no stored fields).

    Assumes: ``CompressedBytesColumn`` zlib-compresses and ``PickleColumn`` pickles each value.
    """
    return loads(zlib.decompress(raw)) if raw else {}
