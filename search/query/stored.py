"""Stored documents by doc number: offsets read with numpy and kept per segment, documents in the segment LRU.

Whoosh's stored-fields column derives every document's offset from its lengths
array in a Python loop the first time a reader touches a segment (measured:
8 ms of a 19 ms cold full answer at ×1, growing with the segment), and every
new generation opens new readers. Here the lengths array is read as one numpy
buffer, the offsets are its cumulative sum, and both are cached by segment id,
so a generation swap reuses them. Decoded documents are cached too (by segment
and local doc number), as tantivy's doc store caches decompressed blocks: the
top results of a busy query are fetched again and again.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from bisect import bisect_right

import numpy as np

from search.query.segcache import SegmentCache

STORED_COLUMN = "_stored"


def _column_file(segment_reader):
    """(file, base position, length) of a segment's stored-fields column (Whoosh W3 codec internals)."""
    return segment_reader._perdoc._get_column_file(STORED_COLUMN)


def segment_id(segment_reader) -> str:
    return segment_reader._segment.segment_id()


def read_extents(colfile, basepos: int, length: int, doccount: int) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, lengths) of every document in a Whoosh ``VarBytesColumn``: the layout its reader decodes in a loop.

    The column ends with the lengths array (big-endian, native item size) and its type code, or, when the
    writer also stored offsets, with offsets array + lengths code + offsets code + ``X``.
    """
    last = basepos + length - 1
    lens_code = chr(colfile.get_byte(last))
    offsets = None
    if lens_code == "X":
        lens_code, offs_code = chr(colfile.get_byte(last - 2)), chr(colfile.get_byte(last - 1))
        start = (last - 2) - doccount * struct.calcsize(offs_code)
        offsets = _array(colfile, start, offs_code, doccount).astype(np.int64)
        last = start
    lengths = _array(colfile, last - struct.calcsize(lens_code) * doccount, lens_code, doccount).astype(np.int64)
    if offsets is None:
        offsets = np.cumsum(lengths) - lengths
    return offsets, lengths


def _array(colfile, start: int, code: str, count: int) -> np.ndarray:
    size = struct.calcsize(code)
    dtype = np.dtype(f">{'u' if code.isupper() else 'i'}{size}")
    return np.frombuffer(colfile.get(start, size * count), dtype=dtype)


class _Leaf:
    __slots__ = ("base", "segid", "colfile", "basepos", "length", "doccount")

    def __init__(self, base: int, segment_reader):
        self.base = base
        self.segid = segment_id(segment_reader)
        self.colfile, self.basepos, self.length = _column_file(segment_reader)
        self.doccount = segment_reader.doc_count_all()


class StoredDocs:
    """The stored fields of one generation's documents; not thread-safe by itself (callers hold the reader lock)."""

    def __init__(self, reader, cache: SegmentCache):
        self.cache = cache
        self.leaves = [_Leaf(base, seg) for seg, base in reader.leaf_readers()]
        self.bases = [leaf.base for leaf in self.leaves]

    def get(self, docnum: int) -> dict:
        leaf = self.leaves[bisect_right(self.bases, docnum) - 1]
        local = docnum - leaf.base
        return self.cache.get((leaf.segid, "doc", local), lambda: self._decode(leaf, local), size=_doc_bytes)

    def _decode(self, leaf: _Leaf, local: int) -> dict:
        offsets, lengths = self.cache.get(
            (leaf.segid, "stored-extents"),
            lambda: read_extents(leaf.colfile, leaf.basepos, leaf.length, leaf.doccount))
        size = int(lengths[local])
        if not size:
            return {}
        return pickle.loads(zlib.decompress(leaf.colfile.get(leaf.basepos + int(offsets[local]), size)))  # noqa: S301

    def close(self) -> None:
        for leaf in self.leaves:
            leaf.colfile.close()


def _doc_bytes(doc: dict) -> int:
    """Rough memory of a decoded document: its text is most of it (str of ASCII ≈ 1 byte per char + overhead)."""
    return 600 + sum(len(v) if isinstance(v, str) else 100 for v in doc.values()) + 200 * len(doc.get("data") or ())
