"""Caches that outlive a generation: keyed by the immutable Whoosh segment, not by the generation.

A Whoosh segment's files are written once and never rewritten: ``update``
hard-links the live generation's segments into the new one and adds a
segment (deletions live in the table of contents, not in the segment). So a
term's decoded postings, its positions and the stored-field offsets of one
segment are valid in every generation that holds that segment. One
``SegmentCache`` per ``SearchEngine`` keeps them by ``(segment id, …)``; after
a swap only the new segment is decoded, and what belongs to merged-away
segments ages out of the LRU.

Everything cached is raw, segment-local data (local doc numbers, term
frequencies, positions); deletions, doc-number offsets and BM25 statistics
belong to a generation and are applied on top.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

CACHE_BYTES = 384 * 1024 * 1024  # ×10 Reuters, 24-query bench: ~60 MB of postings; room for a busy server's terms


def nbytes(value: Any) -> int:
    """Approximate memory of a cached value: numpy buffers exactly, anything else by ``sys.getsizeof``."""
    if isinstance(value, np.ndarray):
        return value.nbytes + 112
    if isinstance(value, tuple | list):
        return sum(nbytes(v) for v in value) + 56
    return sys.getsizeof(value)


class SegmentCache:
    """A thread-safe LRU bounded by bytes; ``get(key, make)`` computes a missing value once, outside the lock."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple, make: Callable[[], Any], size: Callable[[Any], int] = nbytes) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found[0]
            self.misses += 1
        value = make()
        cost = size(value)
        with self._lock:
            if key not in self._items:
                self._items[key] = (value, cost)
                self._bytes += cost
                while self._bytes > self.max_bytes and len(self._items) > 1:
                    _, (_, old) = self._items.popitem(last=False)
                    self._bytes -= old
        return value

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def segments(self) -> set[str]:
        """The segment ids something is cached for (for tests and diagnostics)."""
        with self._lock:
            return {key[0] for key in self._items}
