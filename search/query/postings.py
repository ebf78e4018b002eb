"""Term postings as numpy arrays, BM25-scored and cached per generation; prefix/wildcard expansion.

Whoosh's matchers walk postings one Python call at a time. Facets need the
*entire* hit set, so here each term's posting list is decoded block by block
straight into numpy arrays and ``evaluate.Evaluator`` combines them over the
query tree. Two cache levels: the decoded postings of each *segment* (local doc
ids, term frequencies, positions) live in the engine's ``SegmentCache`` and
survive generation swaps, since segments are immutable; the generation's own
LRU keeps the assembled global doc numbers with their BM25 scores, which depend
on the generation's deletions and statistics.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from search.index.columns import Columns
from search.index.postings_sidecar import path_for as sidecar_path
from search.index.schema import FIELD_WEIGHT, stem
from search.index.whoosh_internals import blocks as _blocks
from search.index.whoosh_internals import position_deltas as _position_deltas
from search.index.whoosh_internals import segment_id, segment_leaves
from search.query.segcache import SegmentCache
from search.query.sidecar import SegmentSidecar
from search.query.wildcard import Glob

K1, B = 1.2, 0.75
ENTITY_WEIGHT = 0.8
EXPAND_LIMIT = 64  # terms a prefix/wildcard may expand to (the most frequent are kept)
EXPAND_SCAN = 5000  # lexicon entries a prefix/wildcard may look at
CACHE_BYTES = 128 * 1024 * 1024  # per generation; the raw postings behind it are in the engine's SegmentCache
EXPAND_CHECK = 256  # terms matched between two looks at the deadline
PHRASE_SHIFT = 1 << 20  # added to positions in phrase keys: a word's offset in a phrase never makes one negative
EXPANSIONS_KEPT = 4096  # prefix/wildcard expansions remembered per generation (each at most EXPAND_LIMIT terms)
_NO_DOCS = np.zeros(0, np.int32)

class Postings:
    """Term postings of one generation as numpy arrays, LRU-cached by size; thread-safe."""

    def __init__(self, reader, columns: Columns, lock: threading.RLock, segments: SegmentCache | None = None,
                 directory: Path | None = None):
        self.reader = reader
        self.columns = columns
        self.lock = lock
        self.segments = segments if segments is not None else SegmentCache()
        self.leaves = [(segment, offset, segment_id(segment)) for segment, offset in segment_leaves(reader)]
        # A segment's numpy sidecar, where it has one: its postings are slices of a memory map, not unpickled blocks
        self.sidecars = {segid: SegmentSidecar.open(sidecar_path(directory, segid)) if directory else None
                         for _, _, segid in self.leaves}
        self.live_count = int(columns.live.sum())
        self.avg = {
            "title": float(columns.title_len[columns.live].mean()) if self.live_count else 1.0,
            "body": float(columns.body_len[columns.live].mean()) if self.live_count else 1.0,
        }
        self._cache: OrderedDict = OrderedDict()
        self._cache_bytes = 0
        self._surface: np.ndarray | None = None
        # (field, literal, pattern) -> its expansion: the lexicon of a generation never changes, and walking
        # Whoosh's term index was most of a warm "econom*" at ×1 (~3,500 small file reads per 10 queries)
        self._expansions: OrderedDict[tuple[str, str, str | None], tuple[str, ...]] = OrderedDict()

    # -- raw postings ---------------------------------------------------------------------
    def scored(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(doc numbers, BM25 scores) of one term; cached."""
        key = (fieldname, text)
        with self.lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            docs, weights = self.read(fieldname, text)
            value = (docs, self._bm25(fieldname, docs, weights))
            self._remember(key, value)
            return value

    def positions(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(doc numbers, offsets [len+1], flat positions) of one term; cached. Phrases read ``position_keys``;
        this plain form is what tests check them against."""
        key = ("\0pos", fieldname, text)
        with self.lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            value = self._read_positions(fieldname, text)
            self._remember(key, value)
            return value

    def position_keys(self, fieldname: str, text: str) -> np.ndarray:
        """Sorted int64 keys ``doc << 32 | position + 2**20`` of every occurrence of a term (live docs), for
        phrase checks (``evaluate``: a phrase is the intersection of its words' keys shifted by their offsets,
        ``2**20`` keeps them positive); cached."""
        key = ("\0keys", fieldname, text)
        with self.lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit[0]
            docs, ptr, flat = self._read_positions(fieldname, text)
            keys = (np.repeat(docs.astype(np.int64), np.diff(ptr)) << 32) + (flat.astype(np.int64) + PHRASE_SHIFT)
            self._remember(key, (keys,))
            return keys

    def _read_positions(self, fieldname: str, text: str):
        doc_parts, ptr_parts, flat_parts, base = [], [np.zeros(1, np.int64)], [], 0
        for segment, offset, segid in self.leaves:
            sidecar = self.sidecars[segid]
            if sidecar is not None and sidecar.has_field(fieldname):
                local, ptr, flat = sidecar.positions(fieldname, text)
            else:
                local, ptr, flat = self.segments.get(
                    (segid, "positions", fieldname, text), lambda s=segment: _segment_positions(s, fieldname, text))
            if len(local):
                doc_parts.append(local + offset)
                ptr_parts.append(ptr[1:] + base)
                flat_parts.append(flat)
                base += int(ptr[-1])
        if not doc_parts:
            return np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int32)
        docs = np.concatenate(doc_parts).astype(np.int32)
        ptr = np.concatenate(ptr_parts)
        flat = np.concatenate(flat_parts)
        keep = self.columns.live[docs]
        if not keep.all():
            docs, ptr, flat = _select_postings(docs, ptr, flat, np.flatnonzero(keep))
        return docs, ptr, flat

    def _remember(self, key, value) -> None:
        self._cache[key] = value
        self._cache_bytes += sum(part.nbytes for part in value)
        while self._cache_bytes > CACHE_BYTES and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= sum(part.nbytes for part in old)

    def read(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """A whole posting list as doc numbers and weights (deleted docs dropped), from the segments' postings."""
        doc_parts, weight_parts = [], []
        with self.lock:
            for segment, offset, segid in self.leaves:
                sidecar = self.sidecars[segid]
                if sidecar is not None and sidecar.has_field(fieldname):
                    local, weights = sidecar.postings(fieldname, text)
                else:
                    local, weights = self.segments.get(
                        (segid, "postings", fieldname, text), lambda s=segment: _segment_postings(s, fieldname, text))
                if len(local):
                    doc_parts.append(local + offset)
                    weight_parts.append(weights)
        if not doc_parts:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        docs = np.concatenate(doc_parts).astype(np.int32)
        weights = np.concatenate(weight_parts).astype(np.float32)
        keep = self.columns.live[docs]
        return docs[keep], weights[keep]

    def _bm25(self, fieldname: str, docs: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """BM25 per field (BM25F-style: title and body scored with their own lengths, title weighted up)."""
        if not len(docs):
            return np.zeros(0, np.float32)
        df = len(docs)
        idf = math.log(1 + (self.live_count - df + 0.5) / (df + 0.5))
        if fieldname in self.avg:
            lengths = (self.columns.title_len if fieldname == "title" else self.columns.body_len)[docs]
            norm = (1 - B) + B * lengths / self.avg[fieldname]
            weight = FIELD_WEIGHT[fieldname]
        else:
            norm = 1.0
            weight = ENTITY_WEIGHT
        return (weight * idf * tf * (K1 + 1) / (tf + K1 * norm)).astype(np.float32)

    # -- lexicon --------------------------------------------------------------------------
    def indexed(self, fieldname: str, text: str) -> bool:
        """Whether any live document has the term: from the posting cache when it holds the term."""
        with self.lock:
            cached = self._cache.get((fieldname, text))
        if cached is not None and len(cached[0]):
            return True
        return self.doc_frequency(fieldname, text) > 0

    def doc_frequency(self, fieldname: str, text: str) -> int:
        with self.lock:
            return self.reader.doc_frequency(fieldname, text)

    def expand(self, fieldname: str, literal: str, pattern: str | None = None, deadline=None) -> list[str]:
        """Terms starting with ``literal`` (and matching the wildcard pattern), the most frequent first; bounded.

        Index terms are stems, so a wildcard is also matched against the collection's surface words
        (``st?rms`` finds "storms" → "storm"). Matching is linear (``wildcard.Glob``); ``deadline``
        (an ``evaluate.Deadline``) is asked every ``EXPAND_CHECK`` terms, so expansion stays in the budget.
        """
        key = (fieldname, literal, pattern)
        with self.lock:
            known = self._expansions.get(key) if not _late(deadline, 0) else None  # out of time: as uncached
            if known is not None:
                self._expansions.move_to_end(key)
                return list(known)
        glob = Glob(pattern) if pattern else None
        candidates = set()
        with self.lock:
            for scanned, term in enumerate(self.reader.expand_prefix(fieldname, literal)):
                if scanned >= EXPAND_SCAN or _late(deadline, scanned):
                    break
                term = term.decode("utf-8") if isinstance(term, bytes) else term
                if glob is None or glob.matches(term):
                    candidates.add(term)
            if glob is not None and fieldname in self.avg:
                for checked, word in enumerate(self._surface_words(literal)):
                    if _late(deadline, checked):
                        break
                    if glob.matches(word):
                        candidates.add(stem(word))
            found = [(self.reader.doc_frequency(fieldname, t), t) for t in candidates]
        found = [item for item in found if item[0]]
        found.sort(key=lambda item: (-item[0], item[1]))
        terms = [term for _, term in found[:EXPAND_LIMIT]]
        if deadline is None or not deadline.expired():  # a cut-short expansion is not the lexicon's answer
            with self.lock:
                self._expansions[key] = tuple(terms)
                while len(self._expansions) > EXPANSIONS_KEPT:
                    self._expansions.popitem(last=False)
        return terms

    def _surface_words(self, literal: str) -> list[str]:
        if self._surface is None:
            self._surface = np.sort(self.columns.spell_words)
        low = np.searchsorted(self._surface, literal)
        high = np.searchsorted(self._surface, literal + "\U0010ffff")
        return self._surface[low:min(high, low + EXPAND_SCAN)].tolist()


def _segment_postings(segment, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """One segment's postings of a term: segment-local doc ids and term frequencies (deletions not applied)."""
    if (fieldname, text) not in segment:
        return _NO_DOCS, np.zeros(0, np.float32)
    parts = [(ids, weights) for ids, weights, _, _ in _blocks(segment.postings(fieldname, text))]
    return (np.concatenate([ids for ids, _ in parts]).astype(np.int32),
            np.concatenate([weights for _, weights in parts]).astype(np.float32))


def _segment_positions(segment, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One segment's positions of a term: (local doc ids, offsets [len+1], flat absolute positions)."""
    if (fieldname, text) not in segment:
        return _NO_DOCS, np.zeros(1, np.int64), np.zeros(0, np.int32)
    doc_parts, delta_lists = [], []
    for ids, _, values, fmt in _blocks(segment.postings(fieldname, text)):
        doc_parts.append(ids)
        delta_lists.extend(_position_deltas(values, fmt))
    docs = np.concatenate(doc_parts).astype(np.int32)
    lengths = np.fromiter(map(len, delta_lists), dtype=np.int64, count=len(delta_lists))
    flat = np.fromiter(itertools.chain.from_iterable(delta_lists), dtype=np.int64, count=int(lengths.sum()))
    ptr = np.zeros(len(docs) + 1, np.int64)
    np.cumsum(lengths, out=ptr[1:])
    running = np.cumsum(flat)  # deltas → absolute positions, restarting at each posting
    before = np.repeat(np.concatenate(([0], running))[ptr[:-1]], lengths)
    return docs, ptr, (running - before).astype(np.int32)


def _late(deadline, count: int) -> bool:
    return deadline is not None and count % EXPAND_CHECK == 0 and deadline.expired()


def _select_postings(docs, ptr, flat, picks: np.ndarray):
    """The postings at indices ``picks``: their docs, new offsets, and their positions."""
    lengths = ptr[picks + 1] - ptr[picks]
    total = int(lengths.sum())
    gather = np.repeat(ptr[picks] - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    new_ptr = np.zeros(len(picks) + 1, np.int64)
    np.cumsum(lengths, out=new_ptr[1:])
    return docs[picks], new_ptr, flat[gather]
