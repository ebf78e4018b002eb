"""The generation's columns assembled from every segment's part (``segment_columns``), deletions masked out."""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path

import numpy as np

from search.facets import ENTITY_FIELDS, FILTER_FACETS
from search.index import entity_merge, segment_columns, whoosh_internals
from search.index.column_data import Basis, Columns, Facet, facet_from_pairs

NO_DATE = segment_columns.NO_DATE


def compute(directory: Path, key: str) -> Columns:
    """The generation's columns from its segments' parts: only segments without a saved part are read."""
    ix = whoosh_internals.open_unmapped(directory)
    parts, deleted_docs, spell_off = [], [], []
    for segment in whoosh_internals.segments(ix):
        part, docs, gone = segment_part(ix, segment, directory)
        parts.append(part)
        deleted_docs.append(docs)
        spell_off.append(gone)
    with contextlib.suppress(OSError):
        segment_columns.remove_stale(directory, {p.segment_id for p in parts})
    return with_entities(assemble(key, parts, deleted_docs, spell_off), directory)


def segment_part(ix, segment, directory: Path) -> tuple[segment_columns.Part, np.ndarray, segment_columns.DeletedPart]:
    """One segment's part (saved, else computed from its stored documents and saved), its deleted doc numbers
    and their spelling counts."""
    segment_id = segment.segment_id()
    part = segment_columns.load_part(directory, segment_id)
    reader = None
    if part is None or part.size != segment.doc_count_all():
        reader = whoosh_internals.segment_reader(ix, segment)
        part = segment_columns.compute_part(reader, segment_id)
        with contextlib.suppress(OSError):
            segment_columns.save_part(part, directory)
    docs = np.array(sorted(segment.deleted_docs()), dtype=np.int32)
    try:
        gone = deleted_part(ix, segment, directory, docs, reader)
    finally:
        if reader is not None:
            reader.close()
    return part, docs, gone


def deleted_part(ix, segment, directory: Path, docs: np.ndarray, reader) -> segment_columns.DeletedPart:
    """The spelling counts of a segment's deleted docs, reading only those deleted since the saved account."""
    segment_id = segment.segment_id()
    known = segment_columns.load_deleted(directory, segment_id) if len(docs) else None
    if known is not None and np.array_equal(known.docs, docs):
        return known
    empty = segment_columns.DeletedPart(np.zeros(0, np.int32), np.zeros(0, str), np.zeros(0, np.int64))
    if not len(docs):
        return empty
    if known is None or not np.isin(known.docs, docs).all():
        known = empty  # deletions only grow while a segment lives; anything else: count again
    new = np.setdiff1d(docs, known.docs)
    own = reader or whoosh_internals.segment_reader(ix, segment)
    try:
        words, freq = segment_columns.compute_deleted(own, new)
    finally:
        if reader is None:
            own.close()
    words, freq = _sum_counts([known.spell_words, words], [known.spell_freq, freq])
    account = segment_columns.DeletedPart(docs, words, freq)
    with contextlib.suppress(OSError):
        segment_columns.save_deleted(account, directory, segment_id)
    return account


def assemble(key: str, parts: list, deleted_docs: list[np.ndarray], spell_off: list) -> Columns:
    """Concatenate segment parts in doc-number order; deleted docs masked out of every column and count.

    Facet vocabularies are the union of the parts' vocabularies less values no live doc has, so
    the result equals what one pass over a freshly rebuilt index of the same articles gives.
    """
    offsets = np.cumsum([0] + [p.size for p in parts])
    size = int(offsets[-1])
    live = np.ones(size, dtype=bool)
    for start, docs in zip(offsets, deleted_docs, strict=False):
        live[start + docs.astype(np.int64)] = False
    doc_columns = {
        name: np.concatenate([p.docs[name] for p in parts]) if parts else np.zeros(0, dtype)
        for name, (dtype, _) in segment_columns.DOC_COLUMNS.items()
    }
    facets = {name: _assemble_facet(name, parts, offsets, live, size) for name in FILTER_FACETS}
    spelling = _sum_counts([p.spell_words for p in parts] + [g.spell_words for g in spell_off],
                           [p.spell_freq for p in parts] + [-g.spell_freq for g in spell_off])
    return columns_of(key, live, doc_columns, facets, spelling, [p.segment_id for p in parts], offsets)


def columns_of(key: str, live: np.ndarray, doc_columns: dict[str, np.ndarray], facets: dict[str, Facet],
               spelling: tuple[np.ndarray, np.ndarray], segment_ids: list[str], offsets: np.ndarray) -> Columns:
    """The columns (facets not yet under the alias map, ``with_entities``) and the ``Basis`` of the next update:
    segment ids and sizes, the unfiltered spelling totals, the entity facets as assembled."""
    words, freq = spelling
    keep = freq >= 2
    basis = Basis(np.array(segment_ids, dtype=str), np.diff(offsets).astype(np.int64), words, freq,
                  {name: facets[name] for name in ENTITY_FIELDS})
    ids = doc_columns["id"]  # a fresh array (concatenated): blanked in place, a copy would cost 65 MB at ×50
    ids[~live] = ""
    return Columns(key, live, doc_columns["date"], doc_columns["local"], doc_columns["title_len"],
                   doc_columns["body_len"], doc_columns["hash"], facets, words[keep], freq[keep], ids, basis)


def with_entities(columns: Columns, directory: Path) -> Columns:
    columns.facets = _merge_entities(columns, directory)
    return columns


def _assemble_facet(name: str, parts: list, offsets: np.ndarray, live: np.ndarray, size: int) -> Facet:
    vocabs = [p.pairs[name].vocab for p in parts]
    vocab = np.unique(np.concatenate(vocabs)) if vocabs else np.zeros(0, str)
    docs, vals = [], []
    for part, start, local_vocab in zip(parts, offsets, vocabs, strict=False):
        column = part.pairs[name]
        to_global = np.searchsorted(vocab, local_vocab).astype(np.int32)
        docs.append(column.pair_doc.astype(np.int32) + np.int32(start))
        vals.append(to_global[column.pair_val] if len(column.pair_val) else column.pair_val)
    pair_doc = np.concatenate(docs) if docs else np.zeros(0, np.int32)
    pair_val = np.concatenate(vals).astype(np.int32) if vals else np.zeros(0, np.int32)
    kept = live[pair_doc]
    pair_doc, pair_val = pair_doc[kept], pair_val[kept]
    used = np.bincount(pair_val, minlength=len(vocab)) > 0
    renumber = (np.cumsum(used) - 1).astype(np.int32)
    return facet_from_pairs(vocab[used], pair_doc, renumber[pair_val], size)


def _merge_entities(columns: Columns, directory: Path) -> dict[str, Facet]:
    """Facets under the archive's alias map (``entity_merge``), from the live docs' (value, year) counts.

    The counts come from the assembled pairs with numpy (no pass over documents), so an
    update recomputes the map for the whole archive at the cost of a bincount; the map and its
    counts are saved beside the columns (``aliases.json``).
    """
    years = columns.date.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    years = np.where(columns.date == NO_DATE, -1, years)
    counts = {}
    for name in ENTITY_FIELDS:
        facet = columns.facets[name]
        keys, n = np.unique(facet.pair_val.astype(np.int64) * 100_000 + years[facet.pair_doc] + 1,
                            return_counts=True)
        values, periods = facet.vocab[keys // 100_000].tolist(), (keys % 100_000 - 1).tolist()
        counts[name] = Counter({(v, None if p < 0 else str(p)): int(c)
                                for v, p, c in zip(values, periods, n.tolist(), strict=True)})
    maps = entity_merge.alias_maps(counts)
    with contextlib.suppress(OSError):
        entity_merge.save(maps, directory, counts)
    return _remap_facets(columns.facets, maps, columns.size) if maps else columns.facets


def _remap_facets(facets: dict[str, Facet], maps: dict, size: int) -> dict[str, Facet]:
    """Facet pairs renamed and moved between facets by the alias map; one pair per doc and value."""
    pieces: dict[str, list] = {name: [] for name in facets}  # target facet -> [(names per source id, docs, ids)]
    for name, facet in facets.items():
        facet_map = maps.get(name, {})
        targets = [facet_map.get(v, (name, v)) for v in facet.vocab.tolist()]
        for target in {t for t, _ in targets} | {name}:
            names = np.array([v if t == target and v is not None else "" for t, v in targets], dtype=str)
            valid = np.array([t == target and v is not None for t, v in targets], dtype=bool)
            keep = valid[facet.pair_val] if len(facet.pair_val) else np.zeros(0, bool)
            pieces.setdefault(target, []).append((names, valid, facet.pair_doc[keep], facet.pair_val[keep]))
    out = {}
    for target, parts in pieces.items():
        used = [names[valid] for names, valid, _, _ in parts]
        vocab = np.unique(np.concatenate(used)) if used else np.zeros(0, str)
        docs, vals = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for names, _, pair_doc, pair_val in parts:
            docs.append(pair_doc.astype(np.int64))
            vals.append(np.searchsorted(vocab, names)[pair_val] if len(pair_val) else np.zeros(0, np.int64))
        key = np.unique(np.concatenate(docs) * max(1, len(vocab)) + np.concatenate(vals))
        pair_doc, pair_val = key // max(1, len(vocab)), key % max(1, len(vocab))
        out[target] = facet_from_pairs(vocab, pair_doc.astype(np.int32), pair_val.astype(np.int32), size)
    return out


def _sum_counts(words: list[np.ndarray], freqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Add word counts given as (sorted words, counts) arrays; words whose total is 0 are dropped."""
    if not words:
        return np.zeros(0, str), np.zeros(0, np.int64)
    unique, inverse = np.unique(np.concatenate(words), return_inverse=True)
    totals = np.bincount(inverse, weights=np.concatenate(freqs).astype(np.float64), minlength=len(unique))
    totals = np.rint(totals).astype(np.int64)
    present = totals > 0
    return unique[present], totals[present]
