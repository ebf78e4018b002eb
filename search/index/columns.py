"""Per-generation columnar arrays: dates, field lengths, content hashes and facet values by doc number.

Whoosh's own faceting walks every hit in Python. Here each generation gets a
``columns.npz`` beside its index, built once (at publish time, or on first
load), so facet counts, date filters, the histogram and BM25 length
normalisation are numpy operations over a boolean hit mask.

Facet values are kept as CSR-like pairs (doc, value id) in doc order — a
masked ``np.bincount`` counts a whole hit set at once — plus the same pairs
grouped by value, so a filter on a value is a slice.

The columns are assembled from per-segment parts (``segment_columns``), each
computed once when its segment is written; a generation made by ``update``
reads only its new segment (and the few documents it deleted), never the
whole index. ``columns.npz`` is the assembled result, cached per generation.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from search.index import column_assembly, column_data, segment_columns, whoosh_internals
from search.index.column_data import FILENAME, Columns, Facet, facet_from_pairs, save

__all__ = ["FILENAME", "NO_DATE", "VERSION", "Columns", "Facet", "build", "compute", "facet_from_pairs", "index_key",
           "load", "load_ids", "save"]

VERSION = 8  # 5: the publisher's day column; 6: entity facets under the archive alias map; 7: from segment parts;
# 8: article ids
NO_DATE = segment_columns.NO_DATE  # the query stage reads it from here


def index_key(directory: Path) -> str:
    """Identifies the exact index state: the newest table of contents (Whoosh writes a new one per commit)."""
    toc = whoosh_internals.latest_toc(directory)
    return f"v{VERSION}:{'-' if toc is None else toc}"


def build(directory: Path) -> Columns:
    """Compute the columns of a finished index and save them beside it (atomic); the saved ones when already
    current (e.g. an update that copied the live generation and changed nothing). Returned, so the caller
    does not read back what was just written."""
    directory = Path(directory)
    if _saved_key(directory) == index_key(directory):
        return load(directory)
    columns = compute(directory)
    save(columns, directory)
    return columns


def load_ids(directory: Path) -> np.ndarray:
    """Only the article id of every document (story clusters need no more): one member of the saved file."""
    directory = Path(directory)
    try:
        with np.load(directory / FILENAME, allow_pickle=False) as data:
            if str(data["key"]) == index_key(directory):
                return data["ids"]
    except (OSError, KeyError, ValueError):
        pass
    return load(directory).ids


def _saved_key(directory: Path) -> str | None:
    try:
        with np.load(directory / FILENAME, allow_pickle=False) as data:
            return str(data["key"])
    except (OSError, KeyError, ValueError):
        return None


def load(directory: Path) -> Columns:
    """The saved columns if they match the index, else freshly computed (and saved if possible)."""
    directory = Path(directory)
    key = index_key(directory)
    try:
        with np.load(directory / FILENAME, allow_pickle=False) as data:
            if str(data["key"]) == key:
                return column_data.from_arrays(dict(data.items()))
    except (OSError, KeyError, ValueError):
        pass
    columns = compute(directory)
    with contextlib.suppress(OSError):
        save(columns, directory)
    return columns


def compute(directory: Path) -> Columns:
    """The generation's columns from its segments' parts (``column_assembly``)."""
    return column_assembly.compute(directory, index_key(directory))
