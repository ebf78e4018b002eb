"""Whoosh internals for writing a segment's postings a field at a time (the build's fast path).

Written against Whoosh 2.7.4, like ``whoosh_internals`` (which holds the reading side and the
rest of the writing side; this module exists because that one is at the size limit). Each
function says what it assumes; ``tests/test_fast_postings.py`` checks that a segment written
this way holds byte for byte the posting lists and term infos Whoosh's own writer produces.

Why: Whoosh's ``SegmentWriter`` pushes every posting through its external-sort pool (a tuple
per posting, pickled runs, a heap merge) and then one ``add_posting`` call, one per-document
length lookup and one ``finish_term`` per term; measured on Reuters ×1, that was most of a
build's CPU. The postings are already in numpy arrays (the lean writer's, ``doc_writer``), so
a field's posting lists, term infos and term table rows are encoded whole from them (``w3_encode``)
and written into Whoosh's own files, and the term table's hash tables are written as arrays.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Callable
from operator import itemgetter

import numpy as np
from whoosh.system import pack_ushort
from whoosh.writing import SegmentWriter

from search.index import w3_encode
from search.index.w3_encode import FieldPostings

# Postings encoded at once. w3_encode writes its buffer in a few dozen scattered passes, so a part whose
# buffer stays in the CPU cache is faster: body of a Reuters ×1 worker, 0.38 s in parts of 2**19 postings,
# 0.21 s in parts of 2**14 (2**13 and 2**15 are no faster); and the temporaries (~270 bytes a posting) stay small.
PART_POSTINGS = 1 << 14

_SLOT = np.dtype([("hash", ">u4"), ("position", ">i8")])  # filetables._pointer ("!Iq"): one hash table slot


class _DroppingPool:
    """A writer's posting pool that drops the postings of some fields (they are written by ``flush``).

    Assumes: ``SegmentWriter.add_document`` sends every posting to ``self.pool.add`` as
    ``(fieldname, tbytes, docnum, weight, vbytes)``, and the writer uses ``iter_postings`` and
    ``cleanup`` of the pool later; everything else is passed through.
    """

    def __init__(self, pool, dropped: set[str]):
        self._pool = pool
        self._dropped = dropped

    def add(self, item) -> None:
        if item[0] not in self._dropped:
            self._pool.add(item)

    def __getattr__(self, name):
        return getattr(self._pool, name)


def write_fields_in_blocks(writer: SegmentWriter, fields: dict[str, Callable[[], FieldPostings]],
                           check: Callable[[int], None]) -> None:
    """Make the writer take ``fields``' postings from callables instead of its pool.

    Each callable returns the field's ``FieldPostings`` (``w3_encode``); ``check`` gets the number
    of documents written before anything is (it raises if the callables do not cover exactly
    those). The pool's own fields and these are written in field-name order, the order Whoosh's
    pool gives (so the segment's field map and term order are what Whoosh itself would write).

    Assumes: ``_flush_segment`` is "close the per-doc writer, ``fieldwriter.add_postings(schema,
    per-doc reader, pool postings)``, close the field writer" (2.7.4); ``add_postings`` may be
    called once per field (it starts and finishes the fields it sees); ``W3FieldWriter``'s
    ``start_field``/``finish_field`` (see ``_write_field`` for its files); the ``W3Codec`` keeps its
    block size as ``_blocklimit`` and its zlib level as ``_compression`` (``w3_encode`` writes
    uncompressed blocks only: ``fast_postings`` refuses another level); ``writer.docnum``
    counts the documents added.
    """
    writer.pool = _DroppingPool(writer.pool, set(fields))

    def flush() -> None:
        check(writer.docnum)
        blocklimit = writer.codec._blocklimit
        writer.perdocwriter.close()
        lengths = _Lengths(writer.per_document_reader(), writer.schema) if writer.codec.length_stats else None
        fieldwriter = writer.fieldwriter
        pooled = itertools.groupby(writer.pool.iter_postings(), key=itemgetter(0))
        pending = next(pooled, None)
        for name in sorted(fields):
            while pending is not None and pending[0] < name:
                fieldwriter.add_postings(writer.schema, lengths, pending[1])
                pending = next(pooled, None)
            _write_field(fieldwriter, name, writer.schema[name], fields[name](), blocklimit)
        while pending is not None:
            fieldwriter.add_postings(writer.schema, lengths, pending[1])
            pending = next(pooled, None)
        close_field_writer(fieldwriter)
        if lengths:
            lengths.close()

    writer._flush_segment = flush


class _Lengths:
    """The per-document reader ``add_postings`` asks for each posting's field length, minus a file-system
    check per posting for fields that keep no lengths (measured: ~1 s per 100k ID postings).

    Assumes: ``W3PerDocReader.doc_field_length`` returns ``default`` when the field has no length
    column, and only scorable fields get one (``SegmentWriter.add_document`` passes a length only
    for them); it looks the column up on disk each time it is missing.
    """

    def __init__(self, reader, schema):
        self._reader = reader
        self._unscored = {name for name in schema.names() if not schema[name].scorable}

    def doc_field_length(self, docnum: int, fieldname: str, default=0):
        if fieldname in self._unscored:
            return default
        return self._reader.doc_field_length(docnum, fieldname, default)

    def close(self) -> None:
        self._reader.close()


def _write_field(fieldwriter, name: str, fieldobj, postings: FieldPostings, blocklimit: int) -> None:
    """Write a field's posting lists and term table rows, a part (runs of whole terms) at a time.

    Assumes: ``W3FieldWriter`` keeps the posting file as ``_postfile`` (term infos point into it by
    ``tell()`` offsets), the field's number as ``_fieldid`` (set by ``start_field``) and the term table
    as ``_tindex``, an ``OrderedHashWriter`` whose ``add(key, value)`` writes ``struct "!ii"`` (key and
    value lengths), key, value at ``dbfile.tell()``, appends that position to ``index``, the pair
    ``(hashfn(key), position)`` to ``buckets[hash & 255]`` and remembers ``lastkey`` (keys must
    increase); a key is ``pack_ushort(field number) + term bytes``.
    """
    if not postings.terms:
        return
    fieldwriter.start_field(name, fieldobj)
    for part in postings.parts(PART_POSTINGS):
        _write_part(fieldwriter, name, part, blocklimit)
    fieldwriter.finish_field()


def _write_part(fieldwriter, name: str, postings: FieldPostings, blocklimit: int) -> None:
    postfile = fieldwriter._postfile
    data, infos = w3_encode.encode_field(postings, blocklimit, postfile.tell())
    postfile.write(data)
    tindex = fieldwriter._tindex
    prefix = pack_ushort(fieldwriter._fieldid)
    keys = [prefix + term for term in postings.terms]
    if keys[0] <= tindex.lastkey or any(a >= b for a, b in zip(keys, keys[1:], strict=False)):
        raise ValueError(f"{name}: terms not in increasing byte order")
    dbfile = tindex.dbfile
    rows, where = _rows(keys, infos)
    where += dbfile.tell()
    dbfile.write(rows)
    hashes = np.fromiter(map(tindex.hashfn, keys), np.int64, len(keys))
    order = np.argsort(hashes & 255, kind="stable")  # each bucket's rows in insertion order
    bounds = np.searchsorted((hashes & 255)[order], np.arange(257))
    pairs = list(zip(hashes[order].tolist(), where[order].tolist(), strict=True))
    for bucket, (low, high) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
        tindex.buckets[bucket].extend(pairs[low:high])
    _extend_index(tindex.index, where.tolist())
    tindex.lastkey = keys[-1]


def _extend_index(index, positions: list[int]) -> None:
    """``index.extend(positions)`` in one C call when the positions fit the array's current type.

    Assumes: the term table's ``GrowableArray`` keeps its values in ``array`` (an ``array.array``) and
    ``extend`` appends them one by one, changing the type when one overflows it; positions increase,
    so if the last fits, all do and Whoosh would not have changed the type either.
    """
    values = index.array
    if positions and isinstance(values, array):
        limit = 1 << (8 * values.itemsize - (1 if values.typecode.islower() else 0))
        if positions[-1] < limit:
            values.extend(positions)
            return
    index.extend(positions)


def _rows(keys: list[bytes], infos: np.ndarray) -> tuple[bytes, np.ndarray]:
    """The term table rows ``struct "!ii"`` (key and value lengths) + key + value, and each row's offset."""
    size = infos.dtype.itemsize
    key_sizes = np.fromiter(map(len, keys), np.int64, len(keys))
    starts = np.zeros(len(keys) + 1, np.int64)
    np.cumsum(8 + key_sizes + size, out=starts[1:])
    out = np.empty(int(starts[-1]), np.uint8)
    at = starts[:-1]
    lengths = np.empty(len(keys), np.dtype([("key", ">i4"), ("value", ">i4")]))
    lengths["key"], lengths["value"] = key_sizes, size
    for column, at_column in ((lengths.view(np.uint8).reshape(-1, 8), at),
                              (infos.view(np.uint8).reshape(-1, size), at + 8 + key_sizes)):
        for k in range(column.shape[1]):
            out[at_column + k] = column[:, k]
    key_bytes = np.frombuffer(b"".join(keys), np.uint8)
    key_starts = np.cumsum(key_sizes) - key_sizes
    out[np.repeat(at + 8 - key_starts, key_sizes) + np.arange(len(key_bytes))] = key_bytes
    return out.tobytes(), at.copy()


def close_field_writer(fieldwriter) -> None:
    """Close the field writer, its term table's 256 hash tables written as one numpy array each.

    Assumes: ``HashWriter._write_hashes`` writes, for each of the 256 ``buckets`` in order, at
    ``dbfile.tell()`` a table of ``2 * len(bucket)`` slots of ``struct "!Iq"`` (hash, row position),
    empty ones ``(0, 0)``, each ``(hash, position)`` of the bucket placed in insertion order at slot
    ``(hash >> 8) % slots`` or the next free one (wrapping), and appends ``(table position, slots)``
    to ``directory``; ``close`` calls it first. Whoosh writes each slot with its own ``write`` call
    (measured: 0.2 s of a 0.9 s flush for 96k terms).
    """
    tindex = fieldwriter._tindex

    def write_hashes() -> None:
        dbfile = tindex.dbfile
        for entries in tindex.buckets:
            slots = 2 * len(entries)
            tindex.directory.append((dbfile.tell(), slots))
            if not slots:
                continue
            taken = [-1] * slots
            for number, (hashval, _) in enumerate(entries):
                slot = (hashval >> 8) % slots
                while taken[slot] >= 0:
                    slot = (slot + 1) % slots
                taken[slot] = number
            table = np.zeros(slots, _SLOT)
            placed = np.array(taken)
            filled = np.flatnonzero(placed >= 0)
            entries_array = np.array(entries, dtype=np.int64).reshape(-1, 2)[placed[filled]]
            table["hash"][filled] = entries_array[:, 0]
            table["position"][filled] = entries_array[:, 1]
            dbfile.write(table.tobytes())

    tindex._write_hashes = write_hashes
    fieldwriter.close()
