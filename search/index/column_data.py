"""The columns' data: ``Columns`` and ``Facet`` (what the query stage reads), and their file beside the index.

The file (``column_file``: arrays opened by memory map) holds every facet grouped by
value as well as in doc order, so opening a generation sorts nothing (before: a stable
argsort of every facet's pairs per open, 0.36 s at Reuters ×50), and the ``Basis`` the
next ``update`` assembles its columns from.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from search.facets import ENTITY_FIELDS, FILTER_FACETS
from search.index import column_file

FILENAME = "columns.arrays"
LEGACY_FILENAME = "columns.npz"  # before the mapped file: left behind by a hard-linked copy, removed on save
FACET_ARRAYS = ("vocab", "pair_doc", "pair_val", "val_ptr", "val_docs")


@dataclass
class Facet:
    """One facet's values: vocabulary plus (doc, value) pairs in doc order and grouped by value."""

    vocab: np.ndarray  # str values, sorted
    pair_doc: np.ndarray  # int32, doc order
    pair_val: np.ndarray  # int32, aligned with pair_doc
    val_ptr: np.ndarray  # int64 [V+1]: docs having value v are val_docs[val_ptr[v]:val_ptr[v+1]]
    val_docs: np.ndarray  # int32, ascending within a value
    size: int  # documents (N)
    _doc_ptr: np.ndarray | None = field(default=None, repr=False)
    _folded: dict | None = field(default=None, repr=False)

    @property
    def doc_ptr(self) -> np.ndarray:
        """int64 [N+1]: pairs of doc d are pair_*[doc_ptr[d]:doc_ptr[d+1]]. Made on first use (~17 ms per
        facet at Reuters ×50): an update's assembly never needs it."""
        if self._doc_ptr is None:
            self._doc_ptr = _pointers(self.pair_doc, self.size)
        return self._doc_ptr

    def ids_for(self, values: list[str]) -> np.ndarray:
        """Value ids matching the given display values, case-insensitively."""
        if self._folded is None:
            folded: dict[str, list[int]] = {}
            for i, value in enumerate(self.vocab.tolist()):
                folded.setdefault(value.casefold(), []).append(i)
            self._folded = folded
        found = [i for v in values for i in self._folded.get(v.casefold(), ())]
        return np.array(sorted(set(found)), dtype=np.int64)

    def docs_mask(self, value_ids: np.ndarray, size: int) -> np.ndarray:
        """Boolean mask of the docs carrying any of the value ids."""
        mask = np.zeros(size, dtype=bool)
        for v in value_ids.tolist():
            mask[self.val_docs[self.val_ptr[v]:self.val_ptr[v + 1]]] = True
        return mask

    def count(self, hits: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Per-value counts over the hit docs (``hits`` = flatnonzero(mask)); picks the cheaper path."""
        size = len(self.vocab)
        if not size or not len(hits):
            return np.zeros(size, dtype=np.int64)
        if len(hits) * 8 < len(mask):  # few hits: gather their own pairs
            starts, ends = self.doc_ptr[hits], self.doc_ptr[hits + 1]
            lengths = ends - starts
            total = int(lengths.sum())
            if not total:
                return np.zeros(size, dtype=np.int64)
            offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
            return np.bincount(self.pair_val[offsets], minlength=size)
        return np.bincount(self.pair_val[mask[self.pair_doc]], minlength=size)


@dataclass
class Columns:
    key: str
    live: np.ndarray  # bool [N]: not deleted
    date: np.ndarray  # int64 epoch seconds [N], NO_DATE when undated: the instant, for newest/oldest order
    local: np.ndarray  # int64 [N]: the same instant on the publisher's clock (date + its UTC offset), NO_DATE
    # when undated; its UTC calendar day is the article's day, which date filters, histogram and year use
    title_len: np.ndarray  # float32 [N]
    body_len: np.ndarray  # float32 [N]
    hash: np.ndarray  # uint64 [N]: content hash prefix (copies of one story share it)
    facets: dict[str, Facet]
    spell_words: np.ndarray  # str: surface words seen in the collection
    spell_freq: np.ndarray  # int64: their frequency in the sample
    ids: np.ndarray  # str [N]: article id; '' for a deleted doc (story clusters and saved searches map by id)
    basis: Basis | None = None  # what the next generation's columns are assembled from (``column_update``)

    @property
    def size(self) -> int:
        return len(self.live)


@dataclass
class Basis:
    """What ``column_update`` needs of a generation to assemble the next one's columns without reading the
    whole index; queries never read it."""

    segment_ids: np.ndarray  # str: the generation's segments in doc-number order
    segment_sizes: np.ndarray  # int64: their document counts (deleted docs included)
    spell_words: np.ndarray  # str, sorted: every word of the live docs ...
    spell_freq: np.ndarray  # int64: ... with its total, before the spelling vocabulary drops words seen once
    raw: dict[str, Facet]  # the entity facets before the alias map (``entity_merge``); other facets need none

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.segment_sizes, dtype=np.int64)])


def facet_from_pairs(vocab: np.ndarray, pair_doc: np.ndarray, pair_val: np.ndarray, size: int) -> Facet:
    """A facet from its pairs in doc order: grouped by value with a stable sort (docs ascending within a value)."""
    by_val = np.argsort(pair_val, kind="stable")
    return facet_from_groups(vocab, pair_doc, pair_val, pair_doc[by_val], size)


def facet_from_groups(vocab: np.ndarray, pair_doc: np.ndarray, pair_val: np.ndarray, val_docs: np.ndarray,
                      size: int) -> Facet:
    """A facet from its pairs in doc order and its docs grouped by value (ascending within a value)."""
    return Facet(vocab, pair_doc, pair_val, _pointers(pair_val, len(vocab)), val_docs, size)


def _pointers(keys: np.ndarray, count: int) -> np.ndarray:
    """[count + 1] start of each key's run in an array sorted (or grouped) by key."""
    out = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=count), out=out[1:])
    return out


def save(columns: Columns, directory: Path) -> None:
    arrays = {
        "key": np.array(columns.key), "live": columns.live, "date": columns.date, "local": columns.local,
        "title_len": columns.title_len, "body_len": columns.body_len, "hash": columns.hash,
        "spell_words": columns.spell_words, "spell_freq": columns.spell_freq, "ids": columns.ids,
    }
    for name, facet in columns.facets.items():
        arrays.update({f"{name}.{part}": getattr(facet, part) for part in FACET_ARRAYS})
    basis = columns.basis
    if basis is not None:
        arrays.update({"basis.segment_ids": basis.segment_ids, "basis.segment_sizes": basis.segment_sizes,
                       "basis.spell_words": basis.spell_words, "basis.spell_freq": basis.spell_freq})
        for name, facet in basis.raw.items():
            arrays.update({f"basis.raw.{name}.{part}": getattr(facet, part) for part in FACET_ARRAYS})
    column_file.write(Path(directory) / FILENAME, arrays)
    with contextlib.suppress(OSError):
        (Path(directory) / LEGACY_FILENAME).unlink(missing_ok=True)


def read(directory: Path) -> dict[str, np.ndarray] | None:
    """The saved arrays (mapped, read lazily), or None when there are none; ``column_file.Damaged`` when the file
    is damaged (a query must not hide that: the generation is broken, ``integrity``)."""
    try:
        return column_file.read(Path(directory) / FILENAME)
    except FileNotFoundError:
        return None


def from_arrays(data: dict, with_basis: bool = True) -> Columns:
    """The columns over the saved arrays (the basis only if asked: queries never read it); KeyError or ValueError
    when members are missing or do not fit."""
    size = len(data["live"])
    facets = {name: _facet(data, name, size) for name in FILTER_FACETS}
    basis = None
    if with_basis and "basis.segment_ids" in data:
        raw = {name: _facet(data, f"basis.raw.{name}", size) for name in ENTITY_FIELDS}
        basis = Basis(data["basis.segment_ids"], data["basis.segment_sizes"], data["basis.spell_words"],
                      data["basis.spell_freq"], raw)
    return Columns(str(data["key"]), data["live"], data["date"], data["local"], data["title_len"], data["body_len"],
                   data["hash"], facets, data["spell_words"], data["spell_freq"], data["ids"], basis)


def _facet(data: dict, prefix: str, size: int) -> Facet:
    vocab, pair_doc, pair_val, val_ptr, val_docs = (data[f"{prefix}.{part}"] for part in FACET_ARRAYS)
    if len(val_ptr) != len(vocab) + 1 or len(val_docs) != len(pair_doc) or len(pair_val) != len(pair_doc) \
            or (len(pair_doc) and not 0 <= pair_doc[-1] < size):
        raise ValueError(f"{prefix}: arrays that do not fit together")
    return Facet(vocab, pair_doc, pair_val, val_ptr, val_docs, size)
