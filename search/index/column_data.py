"""The columns' data: ``Columns`` and ``Facet`` (what the query stage reads), and their file beside the index."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from search.facets import FILTER_FACETS

FILENAME = "columns.npz"

@dataclass
class Facet:
    """One facet's values: vocabulary plus (doc, value) pairs in doc order and grouped by value."""

    vocab: np.ndarray  # str values, sorted
    pair_doc: np.ndarray  # int32, doc order
    pair_val: np.ndarray  # int32, aligned with pair_doc
    doc_ptr: np.ndarray  # int64 [N+1]: pairs of doc d are pair_*[doc_ptr[d]:doc_ptr[d+1]]
    val_ptr: np.ndarray  # int64 [V+1]: docs having value v are val_docs[val_ptr[v]:val_ptr[v+1]]
    val_docs: np.ndarray  # int32
    _folded: dict | None = field(default=None, repr=False)

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

    @property
    def size(self) -> int:
        return len(self.live)


def facet_from_pairs(vocab: np.ndarray, pair_doc: np.ndarray, pair_val: np.ndarray, size: int) -> Facet:
    doc_ptr = np.searchsorted(pair_doc, np.arange(size + 1)).astype(np.int64)
    by_val = np.argsort(pair_val, kind="stable")
    val_ptr = np.searchsorted(pair_val[by_val], np.arange(len(vocab) + 1)).astype(np.int64)
    return Facet(vocab, pair_doc, pair_val, doc_ptr, val_ptr, pair_doc[by_val])


def save(columns: Columns, directory: Path) -> None:
    arrays = {
        "key": np.array(columns.key), "live": columns.live, "date": columns.date, "local": columns.local,
        "title_len": columns.title_len, "body_len": columns.body_len, "hash": columns.hash,
        "spell_words": columns.spell_words, "spell_freq": columns.spell_freq, "ids": columns.ids,
    }
    for name, facet in columns.facets.items():
        arrays[f"{name}.vocab"] = facet.vocab
        arrays[f"{name}.pair_doc"] = facet.pair_doc
        arrays[f"{name}.pair_val"] = facet.pair_val
    tmp = directory / f".{FILENAME}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(tmp, directory / FILENAME)


def from_arrays(data: dict) -> Columns:
    size = len(data["live"])
    facets = {
        name: facet_from_pairs(data[f"{name}.vocab"], data[f"{name}.pair_doc"], data[f"{name}.pair_val"], size)
        for name in FILTER_FACETS
    }
    return Columns(str(data["key"]), data["live"], data["date"], data["local"], data["title_len"], data["body_len"],
                   data["hash"], facets, data["spell_words"], data["spell_freq"], data["ids"])
