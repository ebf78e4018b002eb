"""Per-generation columnar arrays: dates, field lengths, content hashes and facet values by doc number.

Whoosh's own faceting walks every hit in Python. Here each generation gets a
``columns.npz`` beside its index, built once (at publish time, or on first
load), so facet counts, date filters, the histogram and BM25 length
normalisation are numpy operations over a boolean hit mask.

Facet values are kept as CSR-like pairs (doc, value id) in doc order — a
masked ``np.bincount`` counts a whole hit set at once — plus the same pairs
grouped by value, so a filter on a value is a slice.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from search.facets import FILTER_FACETS
from search.index import entity_merge, whoosh_internals
from search.index.writer import open_index

FILENAME = "columns.npz"
VERSION = 7  # 5: the publisher's day column; 6: entity facets under the archive alias map; 7: ids
NO_DATE = np.iinfo(np.int64).min  # sentinel for undated articles
SPELL_SAMPLE_DOCS = 20_000  # bodies read for the spelling vocabulary (titles are always all read)
_SPELL_WORD_RE = re.compile(r"[^\W\d_]{3,24}")


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


def index_key(directory: Path) -> str:
    """Identifies the exact index state: the newest table of contents (Whoosh writes a new one per commit)."""
    toc = whoosh_internals.latest_toc(directory)
    return f"v{VERSION}:{'-' if toc is None else toc}"


def build(directory: Path) -> None:
    """Compute the columns of a finished index and save them beside it (atomic); a no-op when already current."""
    directory = Path(directory)
    if _saved_key(directory) == index_key(directory):
        return  # e.g. an update that copied the live generation and changed nothing
    save(compute(directory), directory)


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
                return _from_arrays(dict(data.items()))
    except (OSError, KeyError, ValueError):
        pass
    columns = compute(directory)
    with contextlib.suppress(OSError):
        save(columns, directory)
    return columns


def compute(directory: Path) -> Columns:
    """One pass over the stored fields of every document."""
    key = index_key(directory)
    ix = open_index(directory)
    with ix.reader() as reader:
        size = reader.doc_count_all()
        live = np.zeros(size, dtype=bool)
        date = np.full(size, NO_DATE, dtype=np.int64)
        local = np.full(size, NO_DATE, dtype=np.int64)
        hashes = np.zeros(size, dtype=np.uint64)
        ids = [""] * size
        values: dict[str, list[tuple[int, str]]] = {name: [] for name in FILTER_FACETS}
        spelling: Counter = Counter()
        step = max(1, reader.doc_count() // SPELL_SAMPLE_DOCS)
        for docnum, stored in whoosh_internals.stored_documents(reader):
            live[docnum] = True
            if stored.get("date") is not None:
                date[docnum] = _epoch(stored["date"])
                local[docnum] = date[docnum] + 60 * int((stored.get("data") or {}).get("utc_offset") or 0)
            hashes[docnum] = _hash64(stored.get("hash") or stored.get("id") or "")
            ids[docnum] = stored.get("id") or ""
            _collect_values(values, docnum, stored.get("data") or {})
            text = stored.get("title") or ""
            if docnum % step == 0:
                text = f"{text} {stored.get('body') or ''}"
            spelling.update(_SPELL_WORD_RE.findall(text.lower()))
        title_len = whoosh_internals.field_lengths(reader, "title", size)
        body_len = whoosh_internals.field_lengths(reader, "body", size)
    values = _merge_entities(values, date, directory)
    facets = {name: _facet(pairs, size) for name, pairs in values.items()}
    words = [w for w, n in spelling.items() if n >= 2]
    return Columns(key, live, date, local, title_len, body_len, hashes, facets,
                   np.array(words, dtype=str), np.array([spelling[w] for w in words], dtype=np.int64),
                   np.array(ids, dtype=str))


def _merge_entities(values: dict, date: np.ndarray, directory: Path) -> dict:
    """Facet pairs under the archive's alias map (entity_merge), which is saved beside the columns."""
    counts = entity_merge.counts_from_pairs(values, entity_merge.years_of(date, NO_DATE))
    maps = entity_merge.alias_maps(counts)
    with contextlib.suppress(OSError):
        entity_merge.save(maps, directory, counts)
    return entity_merge.remap_pairs(values, maps)


def _epoch(value) -> int:
    """Naive datetimes in the index mean UTC."""
    return int((np.datetime64(value, "s") - np.datetime64(0, "s")).astype(np.int64))


def _hash64(text: str) -> int:
    try:
        return int(text[:16], 16)
    except ValueError:
        import hashlib

        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _collect_values(values: dict, docnum: int, data: dict) -> None:
    for name in FILTER_FACETS:
        raw = data.get(name)
        items = [raw] if isinstance(raw, str) else (raw or [])
        for value in dict.fromkeys(v for v in items if v):
            values[name].append((docnum, value))


def _facet(pairs: list[tuple[int, str]], size: int) -> Facet:
    vocab = sorted({value for _, value in pairs})
    ids = {value: i for i, value in enumerate(vocab)}
    pair_doc = np.fromiter((d for d, _ in pairs), dtype=np.int32, count=len(pairs))
    pair_val = np.fromiter((ids[v] for _, v in pairs), dtype=np.int32, count=len(pairs))
    order = np.argsort(pair_doc, kind="stable")
    pair_doc, pair_val = pair_doc[order], pair_val[order]
    return _facet_from_pairs(np.array(vocab, dtype=str), pair_doc, pair_val, size)


def _facet_from_pairs(vocab: np.ndarray, pair_doc: np.ndarray, pair_val: np.ndarray, size: int) -> Facet:
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


def _from_arrays(data: dict) -> Columns:
    size = len(data["live"])
    facets = {
        name: _facet_from_pairs(data[f"{name}.vocab"], data[f"{name}.pair_doc"], data[f"{name}.pair_val"], size)
        for name in FILTER_FACETS
    }
    return Columns(str(data["key"]), data["live"], data["date"], data["local"], data["title_len"], data["body_len"],
                   data["hash"], facets, data["spell_words"], data["spell_freq"], data["ids"])
