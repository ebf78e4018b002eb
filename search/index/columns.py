"""Per-generation columnar arrays: dates, field lengths, content hashes and facet values by doc number.

Whoosh's own faceting walks every hit in Python. Here each generation gets a
columns file beside its index, built once (at publish time, or on first
load), so facet counts, date filters, the histogram and BM25 length
normalisation are numpy operations over a boolean hit mask.

Facet values are kept as CSR-like pairs (doc, value id) in doc order — a
masked ``np.bincount`` counts a whole hit set at once — plus the same pairs
grouped by value, so a filter on a value is a slice.

Three modules make them. ``column_assembly``: from every segment's part
(``segment_columns``, computed once when its segment is written), the full
way, for a rebuild and whenever nothing better fits. ``column_update``: from
the previous generation's columns plus the segments an ``update`` added,
merged away or deleted from, so its cost follows the change, not the archive.
Measured at Reuters ×50 (1.08 M articles, 29 segments), updates adding or
changing 100 articles under cProfile, same home, same hour: ``build`` 2.3–3.2 s
from every part (1.5 s ``np.unique`` over every part's spelling words, 0.6 s
reading every part, 0.4 s arg-sorting every facet) → 0.4–1.4 s from the previous
generation (the five facets' pairs renumbered and merged 0.2–0.4 s; the rest is
copying and writing the 161 MB of per-document arrays; docs/scaling.md).
``column_data`` holds the result and its file (``column_file``: mapped, so a
serve worker opening a new generation reads nothing it does not use and sorts
nothing; bench/bench_swap.py at ×10: opening 130–170 → 85–130 ms wall, a
worker's RSS 233 → 192 MB).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from search.index import column_assembly, column_data, column_file, column_update, segment_columns, whoosh_internals
from search.index.column_data import FILENAME, Columns, Facet, facet_from_pairs, save

__all__ = ["FILENAME", "NO_DATE", "VERSION", "Columns", "Facet", "build", "compute", "facet_from_pairs", "index_key",
           "load", "load_ids", "save"]

VERSION = 9  # 5: the publisher's day column; 6: entity facets under the archive alias map; 7: from segment parts;
# 8: article ids; 9: a mapped file with facets grouped by value and the basis of the next update
NO_DATE = segment_columns.NO_DATE  # the query stage reads it from here


def index_key(directory: Path) -> str:
    """Identifies the exact index state: the newest table of contents (Whoosh writes a new one per commit)."""
    toc = whoosh_internals.latest_toc(directory)
    return f"v{VERSION}:{'-' if toc is None else toc}"


def build(directory: Path) -> Columns:
    """The columns of a finished index, saved beside it (atomic); the saved ones when already current (e.g. an
    update that copied the live generation and changed nothing). Returned, so the caller does not read back what
    was just written. A damaged saved file is replaced: this is a new generation's own."""
    return _current(Path(directory), save, damaged_ok=True)


def load(directory: Path) -> Columns:
    """The saved columns if they match the index, else freshly assembled (and saved if possible); a damaged
    file raises ``column_file.Damaged`` (the generation is broken: rollback or rebuild)."""
    def save_if_possible(columns: Columns, directory: Path) -> None:
        with contextlib.suppress(OSError):
            save(columns, directory)
    return _current(Path(directory), save_if_possible, damaged_ok=False)


def load_ids(directory: Path) -> np.ndarray:
    """Only the article id of every document (story clusters need no more): one member of the saved file."""
    directory = Path(directory)
    data = column_data.read(directory)
    if data is not None and "ids" in data and _key_of(data) == index_key(directory):
        return data["ids"]
    return load(directory).ids


def compute(directory: Path) -> Columns:
    """The generation's columns from every segment's part (``column_assembly``): the reference the incremental
    assembly is tested against."""
    return column_assembly.compute(directory, index_key(directory))


def _current(directory: Path, store, damaged_ok: bool) -> Columns:
    key = index_key(directory)
    try:
        saved = _saved(directory, key)
    except column_file.Damaged:
        if not damaged_ok:
            raise
        saved = None
    if saved is not None and saved.key == key:
        return saved
    columns = column_update.assemble(directory, key, saved) if saved is not None else None
    if columns is None:
        columns = column_assembly.compute(directory, key)
    store(columns, directory)
    return columns


def _saved(directory: Path, key: str) -> Columns | None:
    """The saved columns of this layout version: this index state's (without the basis, which only the next
    assembly reads), or an ancestor's (with it); None if there are none; ``column_file.Damaged``."""
    data = column_data.read(directory)
    if data is None or not _key_of(data).startswith(f"v{VERSION}:"):
        return None
    try:
        return column_data.from_arrays(data, with_basis=_key_of(data) != key)
    except (KeyError, ValueError) as exc:
        raise column_file.Damaged(f"{directory / FILENAME}: {exc}") from exc


def _key_of(data: dict) -> str:
    try:
        return str(data["key"])
    except (KeyError, ValueError):
        return ""
