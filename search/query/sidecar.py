"""A segment's postings read from its numpy sidecar (``search/index/postings_sidecar.py``) by slicing a memory map.

Reading a term is a binary search in the field's sorted term array and three
slices: no unpickling, no copy, and the operating system's page cache is the
only cache a cold engine needs.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np

from search.index.postings_sidecar import read_header

_NO_DOCS = np.zeros(0, np.int32)
_NO_PTR = np.zeros(1, np.int64)


class SegmentSidecar:
    """One segment's sidecar, memory-mapped; thread-safe (read-only)."""

    def __init__(self, path: Path):
        with open(path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self._start, self._header = read_header(self._map)
        for arrays in self._header.values():  # a truncated file is refused here, not when a query slices it
            for dtype, offset, count in arrays.values():
                if self._start + offset + np.dtype(dtype).itemsize * count > len(self._map):
                    raise ValueError(f"{path}: shorter than its header says")
        self._fields: dict[str, dict[str, np.ndarray]] = {}

    @classmethod
    def open(cls, path: Path) -> SegmentSidecar | None:
        """The sidecar at ``path``, or None if there is none (or it is unreadable: the caller reads Whoosh's way)."""
        try:
            return cls(path)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):  # missing, empty, or not a sidecar
            return None

    def has_field(self, fieldname: str) -> bool:
        return fieldname in self._header

    def _arrays(self, fieldname: str) -> dict[str, np.ndarray]:
        arrays = self._fields.get(fieldname)
        if arrays is None:
            arrays = {key: np.frombuffer(self._map, dtype=np.dtype(dtype), count=count, offset=self._start + offset)
                      for key, (dtype, offset, count) in self._header[fieldname].items()}
            self._fields[fieldname] = arrays
        return arrays

    def _term(self, arrays: dict[str, np.ndarray], text: str) -> int:
        """Index of the term in the field's term array, or -1."""
        key = text.encode("utf-8")
        terms = arrays["terms"]
        if len(key) > terms.dtype.itemsize:
            return -1
        at = int(np.searchsorted(terms, key))
        return at if at < len(terms) and terms[at] == key else -1

    def postings(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(segment-local doc ids, weights) of a term, deleted docs included; views into the map."""
        arrays = self._arrays(fieldname)
        at = self._term(arrays, text)
        if at < 0:
            return _NO_DOCS, np.zeros(0, np.float32)
        low, high = int(arrays["term_ptr"][at]), int(arrays["term_ptr"][at + 1])
        return arrays["docs"][low:high], arrays["weights"][low:high]

    def positions(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(segment-local doc ids, offsets [len+1] from 0, flat absolute positions) of a term."""
        arrays = self._arrays(fieldname)
        at = self._term(arrays, text)
        if at < 0:
            return _NO_DOCS, _NO_PTR, _NO_DOCS
        low, high = int(arrays["term_ptr"][at]), int(arrays["term_ptr"][at + 1])
        ptr = arrays["pos_ptr"][low:high + 1]
        first = int(ptr[0])
        return arrays["docs"][low:high], ptr - first, arrays["positions"][first:int(ptr[-1])]
