"""Stored documents by doc number: offsets read with numpy and kept per segment, documents in the segment LRU.

Whoosh's stored-fields column derives every document's offset from its lengths
array in a Python loop the first time a reader touches a segment (measured:
8 ms of a 19 ms cold full answer at ×1, growing with the segment), and every
new generation opens new readers. Here the offsets come from one numpy read
(``whoosh_internals.stored_extents``) and are cached by segment id, so a
generation swap reuses them. Decoded documents are cached too (by segment and
local doc number), as tantivy's doc store caches decompressed blocks: the top
results of a busy query are fetched again and again.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import TypeVar

from search.index import whoosh_internals as wi
from search.query.segcache import SegmentCache

T = TypeVar("T")


class _Leaf:
    __slots__ = ("base", "segid", "colfile", "basepos", "length", "doccount")

    def __init__(self, base: int, segment_reader):
        self.base = base
        self.segid = wi.segment_id(segment_reader)
        self.colfile, self.basepos, self.length = wi.stored_column(segment_reader)
        self.doccount = segment_reader.doc_count_all()


class StoredDocs:
    """The stored fields of one generation's documents; not thread-safe by itself (callers hold the reader lock)."""

    def __init__(self, reader, cache: SegmentCache):
        self.cache = cache
        self.leaves = [_Leaf(base, seg) for seg, base in wi.segment_leaves(reader)]
        self.bases = [leaf.base for leaf in self.leaves]

    def get(self, docnum: int) -> dict:
        leaf = self.leaves[bisect_right(self.bases, docnum) - 1]
        local = docnum - leaf.base
        return self.cache.get((leaf.segid, "doc", local), lambda: self._decode(leaf, local), size=_doc_bytes)

    def derived(self, docnum: int, kind: str, make: Callable[[], T], size: Callable[[T], int]) -> T:
        """Something computed from one stored document (``make()``), cached with it by segment and ``kind``."""
        leaf = self.leaves[bisect_right(self.bases, docnum) - 1]
        return self.cache.get((leaf.segid, kind, docnum - leaf.base), make, size=size)

    def _decode(self, leaf: _Leaf, local: int) -> dict:
        offsets, lengths = self.cache.get(
            (leaf.segid, "stored-extents"),
            lambda: wi.stored_extents(leaf.colfile, leaf.basepos, leaf.length, leaf.doccount))
        size = int(lengths[local])
        return wi.stored_document(leaf.colfile.get(leaf.basepos + int(offsets[local]), size) if size else b"")

    def close(self) -> None:
        for leaf in self.leaves:
            leaf.colfile.close()


def _doc_bytes(doc: dict) -> int:
    """Rough memory of a decoded document: its text is most of it (ASCII str ≈ 1 byte per char + overhead)."""
    return 600 + sum(len(v) if isinstance(v, str) else 100 for v in doc.values()) + 200 * len(doc.get("data") or ())
