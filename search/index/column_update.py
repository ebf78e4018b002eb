"""A generation's columns assembled from the previous generation's columns plus what changed.

``update`` works in a hard-linked copy of the live generation, so the copy's (now
stale) columns file is the base, and its ``Basis`` says which segments it was
assembled from. Whoosh keeps the segments an update does not merge, in their
order, and appends the new ones, so:

* kept segments → their slices of the base arrays, renumbered when a segment
  before them was merged away; docs deleted since → masked, and their spelling
  counts (``DeletedPart``, read from just those docs) subtracted;
* segments merged away (``writer.merge_small_only``) → their parts' spelling
  counts (less what was deleted of them already) subtracted, their pairs dropped;
* new segments → their parts (``segment_columns``) appended.

Sorted vocabularies are merged by ``searchsorted`` and a facet's docs grouped by
value get the new docs inserted after the kept ones of each value (new docs have
the largest numbers), so nothing is sorted or unique-d over the whole archive.
Measured at Reuters ×50 (1.08 M articles), adding 100 under cProfile:
``columns.build`` 2.3–3.0 s from every part (1.5 s of it ``np.unique`` over every
part's spelling words, 0.6 s reading every part, 0.4 s arg-sorting every facet),
0.4–1.3 s from the base (docs/scaling.md).

Anything unexpected (segments reordered, a size or a deletion account that does
not match) returns None, and the caller assembles from every part
(``column_assembly.compute``); tests/test_column_update.py checks both agree.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from search.facets import ENTITY_FIELDS, FILTER_FACETS
from search.index import column_assembly, segment_columns, whoosh_internals
from search.index.column_data import Columns, Facet, facet_from_groups

_EMPTY = segment_columns.DeletedPart(np.zeros(0, np.int32), np.zeros(0, str), np.zeros(0, np.int64))


def assemble(directory: Path, key: str, base: Columns) -> Columns | None:
    """The columns of the index in ``directory`` from ``base`` (the columns of an ancestor generation, whose
    files the directory shares) and the segments that differ; None when the base cannot tell (see above)."""
    basis = base.basis
    if basis is None:
        return None
    base_ids = basis.segment_ids.tolist()
    base_at = {segment_id: i for i, segment_id in enumerate(base_ids)}
    base_offsets = basis.offsets
    if len(base_at) != len(base_ids) or base_offsets[-1] != base.size:
        return None
    ix = whoosh_internals.open_unmapped(directory)
    segments = list(whoosh_internals.segments(ix))
    ids = [s.segment_id() for s in segments]
    kept = [s for s in segments if s.segment_id() in base_at]
    positions = [base_at[s.segment_id()] for s in kept]
    if any(i in base_at for i in ids[len(kept):]) or positions != sorted(positions):
        return None  # not kept-then-new in the base's order
    kept_ids = set(ids[:len(kept)])
    removed = [i for i, segment_id in enumerate(base_ids) if segment_id not in kept_ids]
    sizes = [s.doc_count_all() for s in segments]
    offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
    size = int(offsets[-1])
    live = np.ones(size, dtype=bool)
    remap = np.full(base.size, -1, dtype=np.int64)  # base doc number -> new one, -1 when gone
    spelling: list[tuple[np.ndarray, np.ndarray, int]] = []  # (words, counts, sign) to add to the base totals
    for segment, at, start in zip(kept, positions, offsets, strict=False):
        lo, hi = int(base_offsets[at]), int(base_offsets[at + 1])
        if hi - lo != segment.doc_count_all():
            return None
        was_dead = np.flatnonzero(~base.live[lo:hi]).astype(np.int32)
        dead = np.array(sorted(segment.deleted_docs()), dtype=np.int32)
        if not np.isin(was_dead, dead).all():
            return None  # a deletion undone: not an ancestor
        live[start:start + hi - lo] = base.live[lo:hi]
        live[start + dead.astype(np.int64)] = False
        remap[lo:hi] = np.where(live[start:start + hi - lo], np.arange(start, start + hi - lo), -1)
        if len(dead) > len(was_dead):
            before = _account(directory, segment.segment_id(), was_dead)
            if before is None:
                return None
            after = column_assembly.deleted_part(ix, segment, directory, dead, None)
            spelling += [(before.spell_words, before.spell_freq, 1), (after.spell_words, after.spell_freq, -1)]
    for at in removed:
        segment_id, lo, hi = base_ids[at], int(base_offsets[at]), int(base_offsets[at + 1])
        part = segment_columns.load_part(directory, segment_id)
        account = _account(directory, segment_id, np.flatnonzero(~base.live[lo:hi]).astype(np.int32))
        if part is None or part.size != hi - lo or account is None:
            return None
        spelling += [(part.spell_words, part.spell_freq, -1), (account.spell_words, account.spell_freq, 1)]
    new = []
    for segment, start in zip(segments[len(kept):], offsets[len(kept):], strict=False):
        part, dead, gone = column_assembly.segment_part(ix, segment, directory)
        live[start + dead.astype(np.int64)] = False
        spelling += [(part.spell_words, part.spell_freq, 1), (gone.spell_words, gone.spell_freq, -1)]
        new.append((part, int(start)))
    with contextlib.suppress(OSError):
        segment_columns.remove_stale(directory, set(ids))
    totals = _add_counts(basis.spell_words, basis.spell_freq, *_signed_sum(spelling))
    if totals is None:
        return None
    runs = [(int(base_offsets[at]), int(base_offsets[at + 1])) for at in positions]
    doc_columns = {name: np.concatenate([base_column(base, name)[lo:hi] for lo, hi in runs]
                                        + [part.docs[name] for part, _ in new])
                   for name in segment_columns.DOC_COLUMNS}
    facets = {}
    for name in FILTER_FACETS:
        facet = basis.raw[name] if name in ENTITY_FIELDS else base.facets[name]
        facets[name] = _update_facet(facet, remap, [(part.pairs[name], start) for part, start in new], live, size)
    columns = column_assembly.columns_of(key, live, doc_columns, facets, totals,
                                         ids, offsets)
    return column_assembly.with_entities(columns, directory)


def base_column(base: Columns, name: str) -> np.ndarray:
    """A per-document column of the base by its ``segment_columns.DOC_COLUMNS`` name."""
    return base.ids if name == "id" else getattr(base, name)


def _account(directory: Path, segment_id: str, docs: np.ndarray) -> segment_columns.DeletedPart | None:
    """The saved spelling account of exactly these deleted docs of a segment (none needed for none)."""
    if not len(docs):
        return _EMPTY
    account = segment_columns.load_deleted(directory, segment_id)
    return account if account is not None and np.array_equal(account.docs, docs) else None


def _signed_sum(terms: list[tuple[np.ndarray, np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(sorted words, nonzero net counts) of the changes: small arrays, only what changed."""
    terms = [(w, f, sign) for w, f, sign in terms if len(w)]
    if not terms:
        return np.zeros(0, str), np.zeros(0, np.int64)
    words, inverse = np.unique(np.concatenate([w for w, _, _ in terms]), return_inverse=True)
    counts = np.concatenate([sign * f.astype(np.int64) for _, f, sign in terms])
    totals = np.zeros(len(words), dtype=np.int64)
    np.add.at(totals, inverse.reshape(-1), counts)
    nonzero = totals != 0
    return words[nonzero], totals[nonzero]


def _add_counts(words: np.ndarray, freq: np.ndarray, change_words: np.ndarray,
                change: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Sorted (words, counts) plus a change, merged by ``searchsorted``; words reaching 0 dropped; None if a
    count would go below 0 (the base was not what it claimed)."""
    at = np.searchsorted(words, change_words)
    found = at < len(words)
    found[found] = words[at[found]] == change_words[found]
    freq = np.array(freq, dtype=np.int64)
    freq[at[found]] += change[found]
    fresh = ~found
    if (change[fresh] < 0).any() or (freq < 0).any():
        return None
    words = np.asarray(words).astype(np.result_type(words, change_words), copy=False)
    words, freq = np.insert(words, at[fresh], change_words[fresh]), np.insert(freq, at[fresh], change[fresh])
    keep = freq > 0
    return (words, freq) if keep.all() else (words[keep], freq[keep])


def _update_facet(facet: Facet, remap: np.ndarray, new: list, live: np.ndarray, size: int) -> Facet:
    """The base facet's pairs renumbered (gone docs dropped) plus the new segments' pairs; docs grouped by value
    by inserting the new docs after the kept ones of their value, not by sorting everything again."""
    vocab = np.union1d(facet.vocab, np.concatenate([column.vocab for column, _ in new])) if new else facet.vocab
    base_to = np.searchsorted(vocab, facet.vocab)  # base value id -> id in vocab (ascending)
    kept_doc = remap[facet.pair_doc]
    kept = kept_doc >= 0
    kept_doc, kept_val = kept_doc[kept], base_to[facet.pair_val[kept]]
    grouped = remap[facet.val_docs]
    grouped = grouped[grouped >= 0]  # still grouped by value, docs ascending within one
    new_doc, new_val = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for column, start in new:
        doc = column.pair_doc.astype(np.int64) + start
        alive = live[doc]
        new_doc.append(doc[alive])
        new_val.append(np.searchsorted(vocab, column.vocab)[column.pair_val][alive])
    new_doc, new_val = np.concatenate(new_doc), np.concatenate(new_val)
    counts = np.bincount(kept_val, minlength=len(vocab))
    used = counts + np.bincount(new_val, minlength=len(vocab)) > 0
    renumber = np.cumsum(used) - 1
    order = np.lexsort((new_doc, new_val))  # a new pair goes after the kept docs of its value and of those before
    val_docs = np.insert(grouped, np.cumsum(counts)[new_val[order]], new_doc[order]).astype(np.int32)
    pair_doc = np.concatenate([kept_doc, new_doc]).astype(np.int32)
    pair_val = renumber[np.concatenate([kept_val, new_val])].astype(np.int32)
    return facet_from_groups(vocab[used], pair_doc, pair_val, val_docs, size)
